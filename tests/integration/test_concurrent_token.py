"""Two submissions racing on one invitation token: exactly one is stored (PostgreSQL)."""

import threading

import pytest
from django.db import connection

from surveys.exceptions import InvitationUsed
from surveys.models import Invitation, Question, Response, Survey
from surveys.services import submit_response
from tests.conftest import skip_or_fail
from tests.factories import InvitationFactory, QuestionFactory, SurveyFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROUNDS = 3
RACERS = 2


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        skip_or_fail("the token race needs PostgreSQL row locking (set DATABASE_URL)")


@pytest.fixture(autouse=True)
def no_score_recompute(monkeypatch):
    """The race is about the token; the recompute queued after commit is not under test."""
    monkeypatch.setattr("surveys.services.scores.queue_recompute", lambda **kwargs: True)


def race(survey_id: int, token: str) -> list[object]:
    """Start RACERS submissions together; return what each returned or raised."""
    barrier = threading.Barrier(RACERS)
    outcomes: list[object] = []
    lock = threading.Lock()

    def submit(score: int) -> None:
        try:
            survey = Survey.objects.get(pk=survey_id)
            barrier.wait(timeout=10)
            outcome: object = submit_response(survey=survey, token=token, answers={"nps": score})
        except Exception as error:  # recorded and asserted on by the caller
            outcome = error
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=submit, args=(score,)) for score in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("anonymous", [False, True], ids=["linked", "anonymous"])
def test_concurrent_submissions_on_one_token_store_exactly_one(anonymous):
    # Anonymous responses keep no invitation link, so only the token claim prevents a double.
    survey = SurveyFactory(employee=True) if anonymous else SurveyFactory()
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    for round_number in range(1, ROUNDS + 1):
        invitation = InvitationFactory(survey=survey)
        outcomes = race(survey.pk, invitation.token)
        stored = [outcome for outcome in outcomes if isinstance(outcome, Response)]
        refused = [outcome for outcome in outcomes if isinstance(outcome, InvitationUsed)]
        assert len(outcomes) == RACERS, outcomes
        assert len(stored) == 1 and len(refused) == RACERS - 1, outcomes
        claimed = Invitation.objects.get(pk=invitation.pk)
        assert claimed.used and (claimed.used_at is None) == anonymous  # employee: no time
        assert Response.objects.filter(survey=survey).count() == round_number
