import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent
from surveys.exceptions import (
    InvalidContactRow,
    InvalidInvitationRequest,
    SurveyClosed,
    UnknownUnit,
)
from surveys.exports import INVITATION_COLUMNS as INVITATION_CSV_HEADER
from surveys.models import Invitation, Survey
from surveys.services import issue_invitations
from tests.factories import OrgUnitFactory, SurveyFactory

pytestmark = pytest.mark.django_db

BASE_URL = "https://cx.example.com"


@pytest.fixture
def survey(org_tree):
    return SurveyFactory(slug="store-visit", root_unit=org_tree["company"])


def invitations_url(survey: Survey) -> str:
    return reverse("admin:surveys_survey_invitations", args=[survey.pk])


def read_csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    return list(csv.DictReader(io.StringIO(text.decode())))


def test_issue_invitations_creates_unique_secret_tokens(survey, org_tree, owner):
    store = org_tree["stores"][0]

    invitations = issue_invitations(survey=survey, unit=store, count=25, created_by=owner)

    tokens = {invitation.token for invitation in invitations}
    assert len(tokens) == 25
    assert all(len(token) >= 43 for token in tokens)
    assert set(Invitation.objects.values_list("token", flat=True)) == tokens
    assert all(invitation.unit == store for invitation in invitations)
    event = AuditEvent.objects.get(action="invitations.issued")
    assert (event.actor, event.details["count"]) == (owner, 25)


def test_issue_invitations_sets_expiry_in_days(survey, org_tree):
    before = timezone.now()

    [invitation] = issue_invitations(
        survey=survey, unit=org_tree["stores"][0], count=1, expires_in_days=7
    )

    assert before + timedelta(days=7) <= invitation.expires_at
    assert invitation.expires_at <= timezone.now() + timedelta(days=7)


def test_issue_invitations_admin_downloads_csv_with_links(
    client, owner, survey, org_tree, settings
):
    settings.PUBLIC_BASE_URL = BASE_URL
    client.force_login(owner)
    store = org_tree["stores"][1]

    response = client.post(
        invitations_url(survey), {"unit": store.pk, "count": 5, "expires_in_days": 30}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    rows = read_csv(response)
    assert tuple(rows[0]) == INVITATION_CSV_HEADER
    tokens = {row["token"] for row in rows}
    assert len(rows) == len(tokens) == 5
    assert all(len(token) >= 43 for token in tokens)
    assert {row["url"] for row in rows} == {f"{BASE_URL}/r/{token}/" for token in tokens}
    assert {row["unit_code"] for row in rows} == {store.code}
    assert all(row["expires_at"] for row in rows)
    assert set(Invitation.objects.values_list("token", flat=True)) == tokens


def test_issue_invitations_admin_takes_contacts_from_csv(client, owner, survey, org_tree):
    client.force_login(owner)
    upload = SimpleUploadedFile(
        "contacts.csv",
        b"email,customer_id,segment\nana@example.com,C-1,product=loan;channel=branch\n,C-2,\n",
        content_type="text/csv",
    )

    response = client.post(
        invitations_url(survey),
        {"unit": org_tree["stores"][0].pk, "expires_in_days": 30, "contacts_file": upload},
    )

    assert response.status_code == 200
    rows = read_csv(response)
    assert [(row["contact"], row["customer_id"]) for row in rows] == [
        ("ana@example.com", "C-1"),
        ("", "C-2"),
    ]
    stored = Invitation.objects.get(customer_id="C-1")
    assert stored.segment == {"product": "loan", "channel": "branch"}


@pytest.mark.parametrize("count", [0, -1, 10_001, True, None])
def test_issue_invitations_rejects_a_bad_count(survey, org_tree, count):
    with pytest.raises(InvalidInvitationRequest) as raised:
        issue_invitations(survey=survey, unit=org_tree["stores"][0], count=count)

    assert raised.value.field == "count"
    assert "10,000" in raised.value.message
    assert not Invitation.objects.exists()


def test_issue_invitations_names_the_bad_contacts_line_and_writes_nothing(survey, org_tree):
    contacts = [
        {"contact": "ana@example.com", "line": 2},
        {"contact": "ben@example.com", "customer_id": "C-7", "line": 3},
        {"contact": "not-an-address@", "line": 4},
    ]

    with pytest.raises(InvalidContactRow) as raised:
        issue_invitations(survey=survey, unit=org_tree["stores"][0], contacts=contacts)

    assert raised.value.line == 4
    assert raised.value.message.startswith("Line 4:")
    assert "not-an-address@" in raised.value.message
    assert not Invitation.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({}, "e-mail address or a customer id"),
        ({"contact": "12"}, "neither an e-mail address nor a phone number"),
        ({"customer_id": "C-1", "segment": "product"}, "product=X;region=north"),
        ({"customer_id": "C-1", "segment": "1st=x"}, "must start with a letter"),
    ],
)
def test_issue_invitations_rejects_a_bad_contacts_row(survey, org_tree, row, problem):
    with pytest.raises(InvalidContactRow, match=problem):
        issue_invitations(survey=survey, unit=org_tree["stores"][0], contacts=[row])

    assert not Invitation.objects.exists()


def test_issue_invitations_admin_shows_the_bad_line_next_to_the_file(
    client, owner, survey, org_tree
):
    client.force_login(owner)
    upload = SimpleUploadedFile(
        "contacts.csv", b"email,customer_id\nana@example.com,C-1\nnobody@,C-2\n"
    )

    response = client.post(
        invitations_url(survey),
        {"unit": org_tree["stores"][0].pk, "expires_in_days": 30, "contacts_file": upload},
    )

    assert response.status_code == 200
    assert "contacts_file" in response.context["form"].errors
    assert "Line 3:" in response.context["form"].errors["contacts_file"][0]
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"count": 0, "expires_in_days": 30}, "count"),
        ({"count": 10_001, "expires_in_days": 30}, "count"),
        ({"expires_in_days": 30}, "count"),
        ({"count": 3, "expires_in_days": 0}, "expires_in_days"),
    ],
)
def test_issue_invitations_admin_rejects_bad_input(client, owner, survey, org_tree, data, field):
    client.force_login(owner)

    response = client.post(invitations_url(survey), {"unit": org_tree["stores"][0].pk, **data})

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Invitation.objects.exists()


def test_issue_invitations_admin_rejects_a_bad_header(client, owner, survey, org_tree):
    client.force_login(owner)
    upload = SimpleUploadedFile("contacts.csv", b"mail,phone\nana@example.com,1\n")

    response = client.post(
        invitations_url(survey),
        {"unit": org_tree["stores"][0].pk, "expires_in_days": 30, "contacts_file": upload},
    )

    assert "Line 1:" in response.context["form"].errors["contacts_file"][0]
    assert not Invitation.objects.exists()


def test_issue_invitations_rejects_a_unit_outside_the_survey(org_tree):
    survey = SurveyFactory(root_unit=org_tree["north"])
    south_store = org_tree["stores"][2]

    with pytest.raises(UnknownUnit):
        issue_invitations(survey=survey, unit=south_store, count=3)

    assert not Invitation.objects.exists()


def test_issue_invitations_rejects_a_closed_survey(org_tree):
    survey = SurveyFactory(status=Survey.Status.CLOSED)

    with pytest.raises(SurveyClosed):
        issue_invitations(survey=survey, unit=OrgUnitFactory(), count=3)

    assert not Invitation.objects.exists()


def test_issue_invitations_page_forbidden_for_staff_without_permission(client, unit_member, survey):
    client.force_login(unit_member)

    response = client.post(invitations_url(survey), {"count": 3, "expires_in_days": 30})

    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_issue_invitations_page_forbidden_for_outsider(client, outsider, survey, org_tree):
    client.force_login(outsider)

    response = client.post(
        invitations_url(survey),
        {"unit": org_tree["stores"][0].pk, "count": 3, "expires_in_days": 30},
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert not Invitation.objects.exists()
