"""Two bulk requests racing with one Idempotency-Key: the batch is imported once and both
callers get the same result (PostgreSQL advisory lock, then the stored result)."""

import threading
import time

import pytest
from django.db import connection
from rest_framework.test import APIClient

from common.models import IdempotencyRecord
from surveys.models import Question, Response
from surveys.services import import_responses
from tests.conftest import skip_or_fail
from tests.factories import OrgUnitFactory, QuestionFactory, SurveyFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
RACERS = 3


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        skip_or_fail("the idempotency race needs PostgreSQL advisory locks (set DATABASE_URL)")


@pytest.fixture(autouse=True)
def slow_import(monkeypatch):
    """Hold the first request inside its transaction long enough for the others to arrive."""

    def import_slowly(**kwargs):
        result = import_responses(**kwargs)
        time.sleep(0.3)
        return result

    monkeypatch.setattr("surveys.api.views.import_responses", import_slowly)
    monkeypatch.setattr("surveys.services.scores.queue_recompute", lambda **kwargs: True)


def race(user, body: dict) -> list:
    barrier = threading.Barrier(RACERS)
    answers, lock = [], threading.Lock()

    def post() -> None:
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait(timeout=10)
            response = client.post(
                "/api/v1/surveys/race/responses/bulk/",
                body,
                format="json",
                headers={"Idempotency-Key": "same-key"},
            )
            with lock:
                answers.append(response)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return answers


def test_racing_retries_with_one_key_import_once():
    OrgUnitFactory(code="r1")
    survey = SurveyFactory(slug="race")
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    user = UserFactory(username="racer", is_superuser=True, is_staff=True)
    body = {"responses": [{"unit": "r1", "answers": {"nps": 9}}] * 4}

    answers = race(user, body)

    assert [answer.status_code for answer in answers] == [201] * RACERS
    assert all(answer.json() == answers[0].json() for answer in answers)
    replayed = [answer for answer in answers if answer.headers.get("Idempotent-Replayed")]
    assert len(replayed) == RACERS - 1
    assert Response.objects.count() == 4
    assert IdempotencyRecord.objects.count() == 1
