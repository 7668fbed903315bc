"""Employee surveys leak nothing through metadata or who may answer: invitation-only by
default, limited public links, administrator-only imports and invitations, no time of use,
day-only submission times, allow-listed segments, no live response counts."""

import pytest
from django.contrib.admin.sites import site
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent
from surveys.admin.invitations import InvitationAdmin
from surveys.exceptions import ConfidentialActionRefused, InvitationRequired, PeriodAlreadyReleased
from surveys.models import Invitation, Response, Survey
from surveys.services import import_responses, issue_invitations, submit_response
from surveys.services.releases import release_results
from tests.factories import (
    InvitationFactory,
    LeaderFactory,
    OrgUnitFactory,
    QuestionFactory,
    SurveyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return OrgUnitFactory(code="store-1")


@pytest.fixture
def pulse():
    survey = SurveyFactory(employee=True, slug="pulse", reporting_attributes=["role"])
    QuestionFactory(survey=survey, code="enps", metric_key="employee.enps")
    return survey


def test_employee_answer_keeps_the_day_only_and_invitation_keeps_no_time(pulse, store):
    invitation = InvitationFactory(survey=pulse, unit=store, segment={"role": "cashier"})
    response = submit_response(survey=pulse, answers={"enps": 3}, token=invitation.token)
    invitation.refresh_from_db()
    assert invitation.used and invitation.is_used and invitation.used_at is None
    local = timezone.localtime(response.submitted_at)
    assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
    assert response.invitation is None and response.respondent_key == ""


def test_employee_answer_keeps_only_reporting_attributes_of_the_segment(pulse, store):
    segment = {"role": "cashier", "tenure": "new", "email": "x@example.com"}
    invitation = InvitationFactory(survey=pulse, unit=store, segment=segment)
    response = submit_response(survey=pulse, answers={"enps": 3}, token=invitation.token)
    assert response.segment == {"role": "cashier"}


def test_customer_invitation_still_records_when_it_was_used(store):
    survey = SurveyFactory()
    QuestionFactory(survey=survey, code="nps")
    invitation = InvitationFactory(survey=survey, unit=store)
    submit_response(survey=survey, answers={"nps": 9}, token=invitation.token)
    invitation.refresh_from_db()
    assert invitation.used and invitation.used_at is not None


def test_employee_public_link_refused_by_default_on_page_service_and_api(pulse, store):
    with pytest.raises(InvitationRequired):
        submit_response(survey=pulse, answers={"enps": 9}, unit=store)
    page = Client().get(f"/s/{pulse.slug}/?u={store.code}")
    assert page.status_code == 403 and b"personal link" in page.content
    api = Client().post(
        "/api/v1/submissions/",
        {"survey": pulse.slug, "unit": store.code, "answers": {"enps": 9}},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert not Response.objects.exists()


def test_employee_public_link_when_allowed_takes_one_answer_per_browser(pulse, store, settings):
    Survey.objects.filter(pk=pulse.pk).update(allow_public_link=True)
    settings.EMPLOYEE_PUBLIC_ANSWERS_PER_ADDRESS = 3
    url = f"/s/{pulse.slug}/?u={store.code}"
    browser = Client()
    assert browser.post(url, {"q_enps": "9"}).status_code == 302
    assert browser.post(url, {"q_enps": "9"}).status_code == 429  # the signed cookie
    for _ in range(2):  # fresh browsers, same address: limited per address
        assert Client().post(url, {"q_enps": "9"}).status_code == 302
    assert Client().post(url, {"q_enps": "9"}).status_code == 429
    assert Response.objects.count() == 3
    api = Client().post(
        "/api/v1/submissions/",
        {"survey": pulse.slug, "unit": store.code, "answers": {"enps": 9}},
        content_type="application/json",
    )
    assert api.status_code == 403  # the API has no browser to limit


def test_employee_page_says_when_results_become_visible(pulse, store):
    invitation = InvitationFactory(survey=pulse, unit=store)
    page = Client().get(f"/r/{invitation.token}/")
    assert b"results become visible once this round closes" in page.content


def test_only_administrators_import_employee_answers_and_it_is_audited(pulse, store, unit_member):
    rows = [{"unit": store, "answers": {"enps": 9}, "submitted_at": timezone.now()}]
    for user in (unit_member, LeaderFactory()):
        with pytest.raises(ConfidentialActionRefused):
            import_responses(survey=pulse, rows=rows, imported_by=user)
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    import_responses(survey=pulse, rows=rows, imported_by=admin)
    assert AuditEvent.objects.filter(action="responses.imported", actor=admin).exists()


def test_no_import_into_a_released_period(pulse, store):
    moment = timezone.now().replace(year=2026, month=1, day=15)
    rows = [{"unit": store, "answers": {"enps": 9}, "submitted_at": moment}] * 5
    import_responses(survey=pulse, rows=rows)
    release_results(survey=pulse, period="2026-01")
    with pytest.raises(PeriodAlreadyReleased):
        import_responses(survey=pulse, rows=rows[:1])


def test_api_bulk_refuses_employee_answers_from_managers_and_leaders(
    pulse, org_tree, unit_member, api_client
):
    url = f"/api/v1/surveys/{pulse.slug}/responses/bulk/"
    body = {"responses": [{"unit": "n1", "answers": {"enps": 10}}]}
    for user in (unit_member, LeaderFactory()):
        api_client.force_authenticate(user)
        answer = api_client.post(url, body, format="json")
        assert answer.status_code == 403, answer.content
    assert not Response.objects.exists()


def test_managers_cannot_issue_or_list_employee_invitations(
    pulse, org_tree, unit_member, api_client
):
    api_client.force_authenticate(unit_member)
    answer = api_client.post(
        f"/api/v1/surveys/{pulse.slug}/invitations/", {"unit": "n1", "count": 3}, format="json"
    )
    assert answer.status_code == 403 and not Invitation.objects.exists()
    with pytest.raises(ConfidentialActionRefused):
        issue_invitations(survey=pulse, unit=org_tree["stores"][0], count=1, created_by=unit_member)
    InvitationFactory(survey=pulse, unit=org_tree["stores"][0])
    request = RequestFactory().get("/")
    request.user = unit_member
    assert not InvitationAdmin(Invitation, site).get_queryset(request).exists()


def test_admin_invitation_list_shows_no_use_for_employee_surveys(pulse, store, owner):
    invitation = InvitationFactory(survey=pulse, unit=store)
    Invitation.objects.filter(pk=invitation.pk).update(used=True)
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("admin:surveys_invitation_changelist"))
    assert page.status_code == 200
    cell = page.text.split('class="field-use"', 1)[1].split("</td>", 1)[0]
    assert "icon-unknown.svg" in cell  # neither used nor unused is shown
    filtered = client.get(reverse("admin:surveys_invitation_changelist") + "?used=yes")
    assert invitation.token[:8] not in filtered.text


def test_response_count_is_null_for_employee_surveys(pulse, store, owner, api_client):
    invitation = InvitationFactory(survey=pulse, unit=store)
    submit_response(survey=pulse, answers={"enps": 3}, token=invitation.token)
    api_client.force_authenticate(owner)
    body = api_client.get(f"/api/v1/surveys/{pulse.slug}/").json()
    assert body["response_count"] is None
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("admin:surveys_survey_changelist"))
    assert b"released groups only" in page.content
