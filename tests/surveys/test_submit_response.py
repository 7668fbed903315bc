"""submit_response: the one write path for web, API and import submissions."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from surveys.exceptions import (
    InvalidAnswers,
    InvitationExpired,
    InvitationNotFound,
    InvitationUsed,
    SurveyClosed,
    UnknownUnit,
)
from surveys.models import Answer, Invitation, Question, Response, Survey
from surveys.services import submit_response
from tests.factories import (
    ChoiceFactory,
    InvitationFactory,
    OrgUnitFactory,
    QuestionFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey():
    survey = SurveyFactory(slug="nps")
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS, metric_key="customer.nps")
    QuestionFactory(survey=survey, code="why", type=Question.Type.TEXT, required=False)
    goal = QuestionFactory(survey=survey, code="goal", type=Question.Type.SINGLE, required=False)
    ChoiceFactory(question=goal, value="yes", label="Yes", score=1)
    ChoiceFactory(question=goal, value="no", label="No", score=0)
    return survey


def test_submit_response_stores_answers_with_period(survey, monkeypatch):
    # A fixed moment: the period is the local month of submission, and a clock read by the
    # test itself could fall in another month (last day, midnight, another TIME_ZONE).
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 3, 14, 12, 0, tzinfo=UTC))
    unit = OrgUnitFactory()
    response = submit_response(
        survey=survey, unit=unit, answers={"nps": "9", "why": " Great ", "goal": "yes"}
    )
    assert response.period == "2026-03"
    assert response.submitted_at == datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
    stored = {a.question.code: a for a in Answer.objects.filter(response=response)}
    assert stored["nps"].number == 9
    assert stored["why"].text == "Great"
    assert stored["goal"].choice.value == "yes" and stored["goal"].number == 1


@pytest.mark.parametrize("value", ["11", "-1", "7.5", "abc", True, [9]])
def test_submit_response_rejects_out_of_range_nps_and_writes_nothing(survey, value):
    with pytest.raises(InvalidAnswers) as error:
        submit_response(survey=survey, unit=OrgUnitFactory(), answers={"nps": value})
    assert "nps" in error.value.errors
    assert Response.objects.count() == 0 and Answer.objects.count() == 0


def test_submit_response_rejects_a_fractional_rating_and_keeps_fractional_numbers(survey):
    QuestionFactory(
        survey=survey, code="stars", type=Question.Type.RATING, min_value=1, max_value=5
    )
    QuestionFactory(survey=survey, code="spend", type=Question.Type.NUMBER, required=False)
    with pytest.raises(InvalidAnswers) as error:
        submit_response(survey=survey, unit=OrgUnitFactory(), answers={"nps": 9, "stars": 2.5})
    assert error.value.errors == {"stars": ["Choose a whole number from 1 to 5."]}
    response = submit_response(
        survey=survey, unit=OrgUnitFactory(), answers={"nps": 9, "stars": 3, "spend": 12.5}
    )
    assert sorted(response.answers.values_list("number", flat=True)) == [3, 9, 12.5]


def test_submit_response_rejects_a_nul_character_in_text_and_writes_nothing(survey):
    with pytest.raises(InvalidAnswers) as error:
        submit_response(survey=survey, unit=OrgUnitFactory(), answers={"nps": 9, "why": "a\x00b"})
    assert "NUL" in error.value.errors["why"][0]
    assert Response.objects.count() == 0


def test_submit_response_requires_required_questions(survey):
    with pytest.raises(InvalidAnswers) as error:
        submit_response(survey=survey, unit=OrgUnitFactory(), answers={"why": "no score"})
    assert error.value.errors == {"nps": ["This question is required."]}


def test_submit_response_rejects_foreign_question_code(survey):
    other = QuestionFactory(code="foreign")
    with pytest.raises(InvalidAnswers) as error:
        submit_response(survey=survey, unit=OrgUnitFactory(), answers={"nps": 9, other.code: 3})
    assert "foreign" in error.value.errors


def test_submit_response_rejects_unknown_choice(survey):
    with pytest.raises(InvalidAnswers) as error:
        submit_response(survey=survey, unit=OrgUnitFactory(), answers={"nps": 9, "goal": "maybe"})
    assert "goal" in error.value.errors


@pytest.mark.parametrize("status", [Survey.Status.DRAFT, Survey.Status.CLOSED])
def test_submit_response_refuses_survey_that_is_not_open(survey, status):
    survey.status = status
    survey.save()
    with pytest.raises(SurveyClosed):
        submit_response(survey=survey, unit=OrgUnitFactory(), answers={"nps": 9})
    assert Response.objects.count() == 0


def test_submit_response_uses_token_once(survey):
    invitation = InvitationFactory(survey=survey, customer_id="C-42", segment={"product": "X"})
    response = submit_response(survey=survey, token=invitation.token, answers={"nps": 10})
    assert response.unit == invitation.unit and response.respondent_key == "C-42"
    assert response.segment == {"product": "X"} and response.invitation == invitation
    with pytest.raises(InvitationUsed):
        submit_response(survey=survey, token=invitation.token, answers={"nps": 3})
    assert Response.objects.count() == 1


def test_submit_response_rejects_expired_and_unknown_tokens(survey):
    expired = InvitationFactory(survey=survey, expires_at=timezone.now() - timedelta(days=1))
    with pytest.raises(InvitationExpired):
        submit_response(survey=survey, token=expired.token, answers={"nps": 10})
    with pytest.raises(InvitationNotFound):
        submit_response(survey=survey, token="not-a-token", answers={"nps": 10})
    assert Response.objects.count() == 0
    assert Invitation.objects.get(pk=expired.pk).used_at is None


def test_submit_response_refuses_token_of_another_survey(survey):
    invitation = InvitationFactory()
    with pytest.raises(InvitationNotFound):
        submit_response(survey=survey, token=invitation.token, answers={"nps": 10})
    assert Invitation.objects.get(pk=invitation.pk).used_at is None


def test_submit_response_refuses_unit_outside_survey_root(survey, org_tree):
    survey.root_unit = org_tree["north"]
    survey.save()
    with pytest.raises(UnknownUnit):
        submit_response(survey=survey, unit=org_tree["stores"][2], answers={"nps": 9})
    submit_response(survey=survey, unit=org_tree["stores"][0], answers={"nps": 9})


def test_submit_response_to_confidential_employee_survey_keeps_no_identity():
    survey = SurveyFactory(audience=Survey.Audience.EMPLOYEE, kind=Survey.Kind.PULSE)
    QuestionFactory(survey=survey, code="enps", type=Question.Type.NPS)
    invitation = InvitationFactory(survey=survey, customer_id="E-7", contact="e7@example.com")
    by_link = submit_response(survey=survey, token=invitation.token, answers={"enps": 8})
    Survey.objects.filter(pk=survey.pk).update(allow_public_link=True)
    survey.refresh_from_db()
    by_page = submit_response(
        survey=survey,
        unit=invitation.unit,
        answers={"enps": 6},
        channel=Response.Channel.WEB,
        meta={"respondent_key": "E-8"},
    )
    assert survey.anonymous is False
    stored = Response.objects.filter(pk__in=[by_link.pk, by_page.pk])
    assert list(stored.values_list("invitation", "respondent_key")) == [(None, "")] * 2
    used = Invitation.objects.get(pk=invitation.pk)
    assert used.used and used.used_at is None  # that it was used, never when


def test_submit_response_to_anonymous_survey_keeps_no_identity():
    survey = SurveyFactory(employee=True)
    QuestionFactory(survey=survey, code="enps", type=Question.Type.NPS)
    invitation = InvitationFactory(survey=survey, customer_id="E-7", contact="e7@example.com")
    response = submit_response(survey=survey, token=invitation.token, answers={"enps": 8})
    assert response.invitation is None and response.respondent_key == ""
    local = timezone.localtime(response.submitted_at)
    assert (local.hour, local.minute, local.second) == (0, 0, 0)
    used = Invitation.objects.get(pk=invitation.pk)
    assert used.used and used.used_at is None
