"""Erasing one customer (service, command, admin action) and retention by age remove personal
data and comments, keep every aggregate score identical, and are audited with counts only."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent
from surveys.models import Answer, Invitation, MetricValue, Question, Response
from surveys.services import issue_invitations, submit_response
from surveys.services.erasure import ErasureRequestInvalid, apply_retention, erase_customer
from surveys.services.scores import recompute_all
from tests.factories import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(org_tree):
    survey = SurveyFactory(slug="erase-me", root_unit=org_tree["company"])
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS, metric_key="customer.nps")
    QuestionFactory(
        survey=survey, code="comment", type=Question.Type.TEXT, required=False, metric_key=""
    )
    return survey


@pytest.fixture
def answered(survey, org_tree):
    """Ada answers twice (invitation and keyed link), Bob once, a stranger once."""
    store = org_tree["stores"][0]
    invitation = issue_invitations(
        survey=survey,
        unit=store,
        contacts=[{"contact": "Ada@example.com", "customer_id": "C-ada", "segment": {}}],
    )[0]
    submit_response(
        survey=survey, token=invitation.token, answers={"nps": 3, "comment": "Call me, Ada"}
    )
    submit_response(
        survey=survey,
        unit=store,
        answers={"nps": 10, "comment": "ada@example.com here"},
        meta={"respondent_key": "C-ada", "external_id": "ext-1", "segment": {"tier": "gold"}},
    )
    submit_response(
        survey=survey,
        unit=org_tree["stores"][1],
        answers={"nps": 7, "comment": "Bob"},
        meta={"respondent_key": "C-bob"},
    )
    submit_response(survey=survey, unit=org_tree["stores"][2], answers={"nps": 9})
    recompute_all()
    return survey


def scores() -> list[tuple]:
    return sorted(
        MetricValue.objects.values_list(
            "metric__key", "unit__code", "period", "value", "n", "ci_low", "ci_high", "suppressed"
        )
    )


def test_erasing_a_customer_removes_their_personal_data_and_keeps_scores_identical(answered):
    before = scores()

    erased = erase_customer(customer_id="C-ada", reason="ticket 42")
    recompute_all()

    assert scores() == before and before
    assert (erased.responses, erased.comments, erased.invitations) == (2, 2, 1)
    assert not Invitation.objects.exists()
    assert not Response.objects.filter(respondent_key="C-ada").exists()
    assert not Response.objects.filter(external_id="ext-1").exists()
    assert sorted(Answer.objects.exclude(text="").values_list("text", flat=True)) == ["Bob"]
    assert Response.objects.count() == 4  # answers stay, anonymous
    event = AuditEvent.objects.get(action="customer.erased")
    assert event.details["invitations"] == 1 and "C-ada" not in str(event.details)


def test_erasing_by_contact_finds_the_invitation_whatever_the_case(answered):
    erased = erase_customer(contact="ada@EXAMPLE.com")

    assert (erased.responses, erased.invitations) == (1, 1)
    assert Response.objects.filter(respondent_key="C-ada").count() == 1  # not named by contact


def test_erasing_again_changes_nothing(answered):
    erase_customer(respondent_key="C-bob")

    again = erase_customer(respondent_key="C-bob")

    assert not again
    assert AuditEvent.objects.filter(action="customer.erased").count() == 2


def test_erasure_without_an_identifier_is_refused(answered):
    with pytest.raises(ErasureRequestInvalid):
        erase_customer(customer_id="  ")


def test_erase_customer_command_reports_counts_and_refuses_no_identifier(answered, capsys):
    call_command("erase_customer", "--customer-id", "C-ada")
    assert "2 response(s) de-identified" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("erase_customer")


def test_admin_action_erases_the_customers_of_selected_responses(answered, client, owner):
    client.force_login(owner)
    before = scores()
    selected = Response.objects.filter(respondent_key="C-bob").values_list("pk", flat=True)

    page = client.post(
        reverse("admin:surveys_response_changelist"),
        {"action": "erase_customers", "_selected_action": list(selected)},
        follow=True,
    )

    assert page.status_code == 200
    assert not Response.objects.filter(respondent_key="C-bob").exists()
    assert not Answer.objects.filter(text="Bob").exists()
    recompute_all()
    assert scores() == before


def test_admin_erase_action_is_for_superusers_only(answered, client, analyst):
    client.force_login(analyst)
    page = client.get(reverse("admin:surveys_response_changelist"))
    assert b"erase_customers" not in page.content


def test_retention_blanks_old_text_and_identifiers_and_keeps_scores(answered, settings):
    before = scores()
    settings.RETENTION_FREE_TEXT_DAYS = 30
    settings.RETENTION_PERSONAL_DATA_DAYS = 90
    Response.objects.filter(respondent_key="C-bob").update(
        submitted_at=timezone.now() - timedelta(days=40)
    )

    first = apply_retention()
    later = apply_retention(now=timezone.now() + timedelta(days=100))
    recompute_all()

    assert (first.comments, first.responses, first.invitations) == (1, 0, 0)
    assert later.responses == 3 and later.invitations == 1
    assert not Answer.objects.exclude(text="").exists()
    assert scores() == before
    assert AuditEvent.objects.filter(action="retention.applied").count() == 2


def test_retention_off_by_default_changes_nothing(answered):
    assert not apply_retention(now=timezone.now() + timedelta(days=10_000))
