from smtplib import SMTPRecipientsRefused

import pytest
from django.core import mail

from distribution.models import Contact, SendLog
from distribution.services import sending
from distribution.services.sending import (
    invite_contacts,
    send_emails,
    unsubscribe,
    unsubscribe_token,
)
from surveys.exceptions import ConfidentialActionRefused
from surveys.models import Invitation
from tests.distribution.factories import ContactFactory
from tests.factories import QuestionFactory, SurveyFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE = "https://cx.example.com"


@pytest.fixture
def survey():
    survey = SurveyFactory(title="Branch visit")
    QuestionFactory(survey=survey)
    return survey


def _invite(survey, capture, **kwargs):
    with capture(execute=True):
        return invite_contacts(
            survey=survey, contacts=Contact.objects.all(), base_url=BASE, **kwargs
        )


def test_invite_contacts_sends_one_personal_link_per_contact(
    survey, org_tree, django_capture_on_commit_callbacks
):
    ann = ContactFactory(email="ann@example.com", unit=org_tree["stores"][0], language="de")
    ContactFactory(email="bob@example.com", unit=org_tree["stores"][1], customer_id="C2")

    assert _invite(survey, django_capture_on_commit_callbacks) == 2

    assert sorted(message.to[0] for message in mail.outbox) == [
        "ann@example.com",
        "bob@example.com",
    ]
    invitation = Invitation.objects.get(contact="ann@example.com")
    assert invitation.language == "de" and invitation.unit == ann.unit
    message = next(m for m in mail.outbox if m.to == ["ann@example.com"])
    assert message.subject == "Branch visit"
    assert f"{BASE}/r/{invitation.token}/" in message.body
    assert f"{BASE}/distribution/unsubscribe/{unsubscribe_token(ann)}/" in message.body
    assert message.extra_headers["List-Unsubscribe"].startswith(f"<{BASE}/distribution/")
    log = SendLog.objects.get(invitation=invitation)
    assert (log.kind, log.status) == (SendLog.Kind.INVITATION, SendLog.Status.SENT)
    assert log.sent_at is not None
    assert Invitation.objects.get(contact="bob@example.com").customer_id == "C2"


def test_invite_contacts_twice_invites_nobody_twice(
    survey, org_tree, django_capture_on_commit_callbacks
):
    ContactFactory(unit=org_tree["stores"][0])
    _invite(survey, django_capture_on_commit_callbacks)
    assert _invite(survey, django_capture_on_commit_callbacks) == 0
    assert len(mail.outbox) == 1 and Invitation.objects.count() == 1


def test_unsubscribe_is_honoured_for_every_later_survey(
    client, survey, org_tree, django_capture_on_commit_callbacks
):
    ann = ContactFactory(unit=org_tree["stores"][0])
    url = f"/distribution/unsubscribe/{unsubscribe_token(ann)}/"
    assert client.get(url).status_code == 200
    ann.refresh_from_db()
    assert not ann.unsubscribed  # a link scanner's GET changes nothing
    assert client.post(url).status_code == 200
    ann.refresh_from_db()
    assert ann.unsubscribed

    later = SurveyFactory()
    QuestionFactory(survey=later)
    assert _invite(later, django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []


def test_unsubscribe_refuses_a_forged_token(client, org_tree):
    ann = ContactFactory(unit=org_tree["stores"][0])
    forged = f"{ann.pk}:forged-signature"
    assert unsubscribe(token=forged) is None
    assert client.post(f"/distribution/unsubscribe/{forged}/").status_code == 400
    ann.refresh_from_db()
    assert not ann.unsubscribed


def test_refused_recipient_is_recorded_as_bounce_and_never_mailed_again(
    survey, org_tree, django_capture_on_commit_callbacks, monkeypatch
):
    ann = ContactFactory(unit=org_tree["stores"][0])

    def refuse(self, *args, **kwargs):
        raise SMTPRecipientsRefused({ann.email: (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    _invite(survey, django_capture_on_commit_callbacks)
    log = SendLog.objects.get()
    assert log.status == SendLog.Status.BOUNCED and "no such user" in log.error
    ann.refresh_from_db()
    assert ann.bounced and not ann.reachable


def test_failed_send_is_recorded_with_its_error(
    survey, org_tree, django_capture_on_commit_callbacks, monkeypatch
):
    ContactFactory(unit=org_tree["stores"][0])

    def fail(self, *args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", fail)
    _invite(survey, django_capture_on_commit_callbacks)
    log = SendLog.objects.get()
    assert log.status == SendLog.Status.FAILED
    assert log.error == "ConnectionRefusedError: mail server down"


def test_send_emails_twice_sends_each_message_once(
    survey, org_tree, django_capture_on_commit_callbacks, monkeypatch
):
    ContactFactory(unit=org_tree["stores"][0])
    monkeypatch.setattr(sending, "queue_sends", lambda ids: None)
    _invite(survey, django_capture_on_commit_callbacks)
    ids = list(SendLog.objects.values_list("pk", flat=True))
    assert send_emails(send_ids=ids) == 1
    assert send_emails(send_ids=ids) == 0
    assert len(mail.outbox) == 1


def test_employee_invitations_keep_no_send_time_and_refuse_managers(
    org_tree, django_capture_on_commit_callbacks
):
    pulse = SurveyFactory(employee=True)
    QuestionFactory(survey=pulse)
    ContactFactory(unit=org_tree["stores"][0], audience=Contact.Audience.EMPLOYEE)
    ContactFactory(unit=org_tree["stores"][0])  # a customer: not invited to an employee survey
    manager = UserFactory(is_staff=True)
    manager.managed_units.add(org_tree["north"])

    with pytest.raises(ConfidentialActionRefused):
        _invite(pulse, django_capture_on_commit_callbacks, invited_by=manager)
    assert _invite(pulse, django_capture_on_commit_callbacks) == 1

    log = SendLog.objects.get()
    assert log.status == SendLog.Status.SENT and log.sent_at is None
    assert Invitation.objects.get().customer_id == ""


def test_send_log_of_employee_invitations_hidden_from_non_superusers(
    client, org_tree, django_capture_on_commit_callbacks
):
    pulse = SurveyFactory(employee=True)
    QuestionFactory(survey=pulse)
    ContactFactory(email="emp@example.com", unit=org_tree["stores"][0], audience="employee")
    _invite(pulse, django_capture_on_commit_callbacks)
    staff = UserFactory(is_staff=True, is_superuser=False)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="view_sendlog"))
    client.force_login(staff)
    page = client.get("/admin/distribution/sendlog/")
    assert page.status_code == 200 and "emp@example.com" not in page.content.decode()


def test_admin_invite_builds_links_from_the_address_the_site_is_served_on(
    client, owner, survey, org_tree, settings, django_capture_on_commit_callbacks
):
    settings.PUBLIC_BASE_URL = ""
    ContactFactory(unit=org_tree["stores"][0])
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            "/admin/distribution/contact/invite/",
            {"survey": survey.pk},
            HTTP_HOST="127.0.0.1:8106",
        )
    assert page.status_code == 302
    token = Invitation.objects.get().token
    assert f"http://127.0.0.1:8106/r/{token}/" in mail.outbox[0].body


def test_invitation_csv_download_uses_the_request_address_when_unset(
    client, owner, survey, org_tree, settings
):
    settings.PUBLIC_BASE_URL = ""
    client.force_login(owner)
    page = client.post(
        f"/admin/surveys/survey/{survey.pk}/invitations/",
        {"unit": org_tree["stores"][0].pk, "count": 1, "expires_in_days": 30},
        HTTP_HOST="127.0.0.1:8106",
    )
    token = Invitation.objects.get().token
    assert f"http://127.0.0.1:8106/r/{token}/" in page.content.decode()


def test_send_log_lists_a_managers_units_only(
    client, survey, org_tree, unit_member, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Permission

    ContactFactory(email="north@example.com", unit=org_tree["stores"][0])
    ContactFactory(email="south@example.com", unit=org_tree["stores"][2])
    _invite(survey, django_capture_on_commit_callbacks)
    unit_member.user_permissions.add(Permission.objects.get(codename="view_sendlog"))
    client.force_login(unit_member)
    page = client.get("/admin/distribution/sendlog/").content.decode()
    assert "north@example.com" in page and "south@example.com" not in page


def test_manager_cannot_send_employee_invitations_from_the_admin(
    client, org_tree, unit_member, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Permission

    pulse = SurveyFactory(employee=True)
    QuestionFactory(survey=pulse)
    ContactFactory(unit=org_tree["stores"][0], audience=Contact.Audience.EMPLOYEE)
    unit_member.user_permissions.add(Permission.objects.get(codename="view_contact"))
    client.force_login(unit_member)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post("/admin/distribution/contact/invite/", {"survey": pulse.pk})
    assert page.status_code == 200 and "errornote" in page.content.decode()
    assert not Invitation.objects.exists() and mail.outbox == []


def test_hostile_page_input_gets_form_errors_not_server_errors(client, unit_member, org_tree):
    client.force_login(unit_member)
    for query in ({"schedule": "x"}, {"survey": "-1", "unit": "zz"}, {"unit": "a" * 5000}):
        assert client.get("/distribution/rates/", query).status_code == 200
    assert client.get("/distribution/cases/", {"status": "'; drop"}).status_code == 200
    assert client.get("/distribution/unsubscribe/%E2%80%AE/").status_code == 200
    assert client.post("/distribution/unsubscribe/1:x/").status_code == 400


def test_invitation_email_is_in_the_contacts_language(
    survey, org_tree, django_capture_on_commit_callbacks
):
    ContactFactory(email="anna@example.com", unit=org_tree["stores"][0], language="de")
    _invite(survey, django_capture_on_commit_callbacks)
    assert "Bitte beantworten Sie „Branch visit“" in mail.outbox[0].body


def test_invitation_email_carries_the_company_name_logo_and_colour(
    survey, org_tree, django_capture_on_commit_callbacks
):
    from common.models import Branding
    from common.services.branding import save_branding

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    save_branding(branding=Branding(company_name="Northwind Retail", colour="#0b6e4f"), logo=png)
    ContactFactory(email="ann@example.com", unit=org_tree["stores"][0])
    _invite(survey, django_capture_on_commit_callbacks)
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert message.body.startswith("Northwind Retail")
    assert "<strong>Northwind Retail</strong>" in html and "background:#0b6e4f" in html
    assert f'<img src="{BASE}/brand/logo?v=' in html
    assert "<small>Powered by cxsurvey</small>" in html
