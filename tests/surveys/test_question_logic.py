"""Question logic: a question shown only when an earlier answer meets its condition; hidden
questions are neither required nor stored nor scored; logic that refers to a later or
missing question keeps a survey from opening (service, admin)."""

import pytest
from django.test import Client
from django.urls import reverse

from surveys.exceptions import InvalidQuestionLogic
from surveys.logic import Condition, is_met, logic_problems
from surveys.models import Answer, OrgUnit, Question, Response, Survey
from surveys.services import open_survey, submit_response
from tests.factories import ChoiceFactory, OrgUnitFactory, QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return OrgUnitFactory(code="store-1", level=OrgUnit.Level.STORE)


@pytest.fixture
def visit():
    survey = SurveyFactory(slug="visit", status=Survey.Status.OPEN)
    QuestionFactory(survey=survey, code="nps", order=1, type=Question.Type.NPS)
    QuestionFactory(
        survey=survey,
        code="reason",
        order=2,
        type=Question.Type.TEXT,
        text="What went wrong?",
        show_if_question="nps",
        show_if_operator="lte",
        show_if_value="6",
    )
    return survey


def test_condition_on_a_scale_compares_numbers():
    at_most_six = Condition("nps", "lte", ("6",))
    assert is_met(at_most_six, 0.0) and is_met(at_most_six, 6.0)
    assert not is_met(at_most_six, 7.0) and not is_met(at_most_six, None)
    assert is_met(Condition("nps", "in", ("9", "10")), 10.0)
    assert not is_met(Condition("nps", "ne", ("10",)), 10.0)


def test_condition_on_choices_matches_values_and_any_of_a_multi_choice():
    assert is_met(Condition("goal", "eq", ("no",)), "no")
    assert not is_met(Condition("goal", "eq", ("no",)), "yes")
    assert is_met(Condition("channels", "in", ("phone", "chat")), ["web", "phone"])
    assert not is_met(Condition("channels", "ne", ("phone",)), ["web", "phone"])
    assert is_met(Condition("why", "answered", ()), "slow")


def test_detractor_must_give_the_reason_and_it_is_stored(visit, store):
    with pytest.raises(Exception) as refused:
        submit_response(survey=visit, answers={"nps": 3}, unit=store)
    assert refused.value.errors == {"reason": ["This question is required."]}
    response = submit_response(survey=visit, answers={"nps": 3, "reason": "Slow"}, unit=store)
    assert {answer.question.code for answer in response.answers.all()} == {"nps", "reason"}


def test_promoter_skips_the_reason_and_a_sent_reason_is_dropped(visit, store):
    response = submit_response(survey=visit, answers={"nps": 9, "reason": "Sneaky"}, unit=store)
    assert [answer.question.code for answer in response.answers.all()] == ["nps"]
    assert not Answer.objects.filter(text="Sneaky").exists()


def test_question_after_a_hidden_question_is_hidden_too(visit, store):
    QuestionFactory(
        survey=visit,
        code="follow",
        order=3,
        type=Question.Type.TEXT,
        show_if_question="reason",
        show_if_operator="answered",
    )
    response = submit_response(survey=visit, answers={"nps": 10, "follow": "x"}, unit=store)
    assert [answer.question.code for answer in response.answers.all()] == ["nps"]


def test_respondent_page_marks_conditional_question_and_loads_the_logic_script(visit, store):
    page = Client().get(f"/s/visit/?u={store.code}").content.decode()
    assert 'data-show-if="nps" data-show-if-operator="lte" data-show-if-value="6"' in page
    assert "js/question-logic.js" in page and "<script>" not in page
    promoter = Client().post(f"/s/visit/?u={store.code}", {"q_nps": "10", "q_reason": "x"})
    assert promoter.status_code == 302
    assert Response.objects.get().answers.count() == 1


def test_logic_problems_name_later_missing_and_wrongly_typed_references():
    survey = SurveyFactory.build()
    first = Question(survey=survey, code="a", type="text", show_if_question="b")
    second = Question(survey=survey, code="b", type="nps")
    third = Question(survey=survey, code="c", type="nps", show_if_question="zz")
    fourth = Question(
        survey=survey, code="d", type="text", show_if_question="b", show_if_operator="lte"
    )
    fifth = Question(
        survey=survey,
        code="e",
        type="nps",
        show_if_question="a",
        show_if_operator="gte",
        show_if_value="3",
    )
    sixth = Question(survey=survey, code="f", type="nps", show_if_operator="lte")
    problems = logic_problems([first, second, third, fourth, fifth, sixth], {})
    assert "does not come before it" in problems["a"][0]
    assert "not in the survey" in problems["c"][0]
    assert "Give the value" in problems["d"][0]
    assert "open text" in problems["e"][0] or "not a number" in problems["e"][0]
    assert "Name the earlier question" in problems["f"][0]
    assert "b" not in problems


def test_open_refuses_logic_that_refers_to_a_later_question(store):
    survey = SurveyFactory(status=Survey.Status.DRAFT, title="Loopy")
    QuestionFactory(
        survey=survey,
        code="reason",
        order=1,
        type="text",
        show_if_question="nps",
        show_if_operator="lte",
        show_if_value="6",
    )
    QuestionFactory(survey=survey, code="nps", order=2)
    with pytest.raises(InvalidQuestionLogic) as refused:
        open_survey(survey=survey)
    assert "reason" in refused.value.problems
    survey.refresh_from_db()
    assert survey.status == Survey.Status.DRAFT


def test_open_refuses_a_condition_on_an_unknown_option(store):
    survey = SurveyFactory(status=Survey.Status.DRAFT)
    goal = QuestionFactory(survey=survey, code="goal", order=1, type=Question.Type.SINGLE)
    ChoiceFactory(question=goal, value="yes")
    QuestionFactory(
        survey=survey,
        code="why",
        order=2,
        type="text",
        show_if_question="goal",
        show_if_operator="eq",
        show_if_value="maybe",
    )
    with pytest.raises(InvalidQuestionLogic):
        open_survey(survey=survey)


def test_admin_question_page_refuses_logic_on_a_missing_question(client, owner, visit):
    client.force_login(owner)
    reason = visit.questions.get(code="reason")
    url = reverse("admin:surveys_question_change", args=[reason.pk])
    data = {
        "survey": visit.pk,
        "code": "reason",
        "order": 2,
        "type": "text",
        "text_en": "Why?",
        "required": "on",
        "show_if_question": "nope",
        "show_if_operator": "lte",
        "show_if_value": "6",
        "choices-TOTAL_FORMS": 0,
        "choices-INITIAL_FORMS": 0,
    }
    page = client.post(url, data)
    assert page.status_code == 200
    assert "which is not in the survey" in page.content.decode()
    reason.refresh_from_db()
    assert reason.show_if_question == "nps"


def test_admin_open_action_shows_the_logic_problem(client, owner):
    survey = SurveyFactory(status=Survey.Status.DRAFT, title="Loopy")
    QuestionFactory(survey=survey, code="reason", order=1, type="text", show_if_question="gone")
    client.force_login(owner)
    page = client.post(
        reverse("admin:surveys_survey_changelist"),
        {"action": "open_selected", "_selected_action": [survey.pk]},
        follow=True,
    )
    assert "question logic does not work" in page.content.decode()
    survey.refresh_from_db()
    assert survey.status == Survey.Status.DRAFT


def test_admin_question_list_refuses_reordering_that_puts_the_condition_first(client, owner):
    survey = SurveyFactory(status=Survey.Status.DRAFT, slug="draft-visit")
    nps = QuestionFactory(survey=survey, code="nps", order=1)
    reason = QuestionFactory(
        survey=survey,
        code="reason",
        order=2,
        type="text",
        show_if_question="nps",
        show_if_operator="lte",
        show_if_value="6",
    )
    client.force_login(owner)
    url = reverse("admin:surveys_survey_change", args=[survey.pk])
    data = {
        "title_en": survey.title,
        "slug": survey.slug,
        "audience": "customer",
        "kind": survey.kind,
        "anonymity_threshold": 0,
        "period_granularity": "month",
        "languages": "[]",
        "release_mode": "wave",
        "reporting_attributes": "[]",
        "one_answer_per_browser": "on",
        "questions-TOTAL_FORMS": 2,
        "questions-INITIAL_FORMS": 2,
    }
    for index, (question, order) in enumerate([(nps, 5), (reason, 2)]):
        prefix = f"questions-{index}-"
        data.update(
            {
                prefix + "id": question.pk,
                prefix + "survey": survey.pk,
                prefix + "order": order,
                prefix + "code": question.code,
                prefix + "type": question.type,
                prefix + "text_en": question.text,
                prefix + "required": "on",
                prefix + "show_if_question": question.show_if_question,
                prefix + "show_if_operator": question.show_if_operator,
                prefix + "show_if_value": question.show_if_value,
            }
        )
    page = client.post(url, data)
    assert page.status_code == 200
    assert "does not come before it" in page.content.decode()
    nps.refresh_from_db()
    assert nps.order == 1
