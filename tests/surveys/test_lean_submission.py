"""The submission path: the survey definition comes from the cache, a submission costs at
most six SQL statements (HTML form and API) and updates no row other requests share."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from surveys.definition import definition_for_slug
from surveys.models import Answer, DirtyScoreCell, OrgUnit, Question, Response, Survey
from surveys.services import close_survey
from tests.factories import (
    ChoiceFactory,
    OrgUnitFactory,
    QuestionFactory,
    SurveyFactory,
    WebhookSubscriptionFactory,
)

pytestmark = pytest.mark.django_db

MAX_STATEMENTS = 6
FORM_ANSWERS = {
    "q_nps": "9",
    "q_csat": "4",
    "q_ces": "6",
    "q_agree": "5",
    "q_stars": "8",
    "q_minutes": "35",
    "q_visits": "3",
    "q_goal": "yes",
    "q_channels": ["web", "phone"],
    "q_why": "Quick and friendly.",
}


@pytest.fixture
def store():
    return OrgUnitFactory(code="store-1", name="Main Street", level=OrgUnit.Level.STORE)


@pytest.fixture
def survey():
    survey = SurveyFactory(slug="visit", title="Your visit")
    add = QuestionFactory
    add(survey=survey, code="nps", type=Question.Type.NPS, metric_key="customer.nps")
    add(survey=survey, code="csat", type=Question.Type.CSAT, metric_key="customer.csat")
    add(survey=survey, code="ces", type=Question.Type.CES, metric_key="customer.ces")
    add(survey=survey, code="agree", type=Question.Type.LIKERT)
    add(survey=survey, code="stars", type=Question.Type.RATING, min_value=1, max_value=10)
    add(survey=survey, code="minutes", type=Question.Type.RATING, min_value=0, max_value=120)
    add(survey=survey, code="visits", type=Question.Type.NUMBER, min_value=0, required=False)
    goal = add(survey=survey, code="goal", type=Question.Type.SINGLE, text="Goal reached?")
    ChoiceFactory(question=goal, value="yes", label="Yes", score=1)
    ChoiceFactory(question=goal, value="no", label="No", score=0)
    channels = add(survey=survey, code="channels", type=Question.Type.MULTI, required=False)
    ChoiceFactory(question=channels, value="web", label="Website")
    ChoiceFactory(question=channels, value="phone", label="Phone")
    add(survey=survey, code="why", type=Question.Type.TEXT, text="Why?", required=False)
    return survey


def page_url(survey: Survey, unit: OrgUnit) -> str:
    return reverse("surveys:public", kwargs={"slug": survey.slug}) + f"?u={unit.code}"


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def statements_of(context: CaptureQueriesContext) -> list[str]:
    """SQL statements sent, without transaction control: inside the test's transaction the
    submission's BEGIN and COMMIT show as SAVEPOINT and RELEASE SAVEPOINT."""
    control = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
    sql = [query["sql"] for query in context.captured_queries]
    return [statement for statement in sql if not statement.startswith(control)]


def test_html_form_submission_costs_at_most_six_statements_and_updates_nothing(survey, store):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(page_url(survey, store))  # as a respondent does: GET, then POST
    data = {**FORM_ANSWERS, "csrfmiddlewaretoken": csrf_token(page.content.decode())}
    with CaptureQueriesContext(connection) as context:
        reply = browser.post(page_url(survey, store), data)
    assert reply.status_code == 302, reply.content.decode()[:500]
    statements = statements_of(context)
    assert len(statements) <= MAX_STATEMENTS, "\n".join(statements)
    assert not any(sql.startswith("UPDATE") for sql in statements)  # no shared row
    assert Answer.objects.count() == 10 and DirtyScoreCell.objects.count() == 1


def test_api_submission_costs_at_most_six_statements_and_updates_nothing(survey, store):
    api = APIClient()
    answers = {key[2:]: value for key, value in FORM_ANSWERS.items()}
    answers = {**answers, "nps": 9, "csat": 4, "ces": 6, "agree": 5, "stars": 8, "minutes": 35}
    body = {"survey": survey.slug, "unit": store.code, "answers": answers}
    assert api.post("/api/v1/submissions/", body, format="json").status_code == 201
    with CaptureQueriesContext(connection) as context:
        reply = api.post("/api/v1/submissions/", body, format="json")
    assert reply.status_code == 201, reply.json()
    statements = statements_of(context)
    assert len(statements) <= MAX_STATEMENTS, "\n".join(statements)
    assert not any(sql.startswith("UPDATE") for sql in statements)
    assert Response.objects.count() == 2


def test_definition_is_read_once_then_served_from_the_cache(survey):
    definition_for_slug(survey.slug)
    with CaptureQueriesContext(connection) as context:
        definition = definition_for_slug(survey.slug)
    assert len(context.captured_queries) == 0
    assert [question.code for question in definition.questions][:3] == ["nps", "csat", "ces"]


def test_edited_question_is_shown_on_the_next_request(survey, store, client):
    client.get(page_url(survey, store))
    question = survey.questions.get(code="why")
    question.text = "What could we do better?"
    question.save()
    assert "What could we do better?" in client.get(page_url(survey, store)).content.decode()


def test_new_choice_is_accepted_on_the_next_request(survey, store, client):
    client.get(page_url(survey, store))
    ChoiceFactory(question=survey.questions.get(code="goal"), value="partly", label="Partly")
    reply = client.post(page_url(survey, store), {**FORM_ANSWERS, "q_goal": "partly"})
    assert reply.status_code == 302


def test_closed_survey_refuses_answers_at_once(survey, store, client):
    client.get(page_url(survey, store))
    close_survey(survey=survey)
    reply = client.post(page_url(survey, store), FORM_ANSWERS)
    assert reply.status_code == 410 and not Response.objects.exists()


def test_new_webhook_subscription_gets_the_next_submission(survey, store, client):
    client.get(page_url(survey, store))
    subscription = WebhookSubscriptionFactory(survey=survey)
    assert client.post(page_url(survey, store), FORM_ANSWERS).status_code == 302
    assert subscription.deliveries.count() == 1


def test_definition_read_again_within_a_process_costs_no_cache_round_trip(survey, monkeypatch):
    from common import cachesafe

    definition_for_slug(survey.slug)
    calls = []
    monkeypatch.setattr(cachesafe, "get", lambda *args, **kwargs: calls.append(args))
    assert definition_for_slug(survey.slug).survey.pk == survey.pk
    assert calls == []


def test_a_submission_stores_each_answer_with_its_value_choice_and_options(survey, store, client):
    other = Client()  # a second response in between, so answers must not mix across responses
    assert client.post(page_url(survey, store), FORM_ANSWERS).status_code == 302
    assert other.post(page_url(survey, store), {**FORM_ANSWERS, "q_nps": "3"}).status_code == 302
    first = Response.objects.order_by("id").first()
    stored = {answer.question.code: answer for answer in first.answers.select_related("question")}
    numbers = {"nps": 9.0, "csat": 4.0, "stars": 8.0, "minutes": 35.0, "visits": 3.0}
    assert {code: stored[code].number for code in numbers} == numbers
    assert stored["goal"].choice.value == "yes" and stored["goal"].number == 1.0
    assert {choice.value for choice in stored["channels"].choices.all()} == {"web", "phone"}
    assert stored["why"].text == "Quick and friendly." and stored["why"].number is None
    assert Answer.objects.filter(response=first).count() == 10
    assert Answer.objects.get(response__id__gt=first.id, question__code="nps").number == 3.0


def test_plain_inserts_store_dates_as_the_orm_does(survey):
    # The change-log mark is written without the ORM; the sweep compares its time in SQL, so
    # its stored form must be the ORM's own on every database (SQLite keeps text).
    from surveys.services.scores import mark_scores_dirty

    mark_scores_dirty(survey_id=survey.pk, period="2026-12")
    DirtyScoreCell.objects.create(survey_id=survey.pk, period="2026-12")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT CAST(marked_at AS TEXT) FROM {DirtyScoreCell._meta.db_table}")
        plain, orm = (value for (value,) in cursor.fetchall())
    assert len(plain) == len(orm) and plain[-6:].count("+") == orm[-6:].count("+")
