"""A submission committing while a recompute of its cell runs is still scored (PostgreSQL)."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from cxsurvey.celery import app as celery_app
from surveys.models import DirtyScoreCell, MetricValue
from surveys.services import submit_response
from surveys.services.metrics import ensure_metrics_for_questions
from surveys.services.scores import recompute_dirty_cell
from tests.conftest import skip_or_fail
from tests.factories import QuestionFactory, SurveyFactory, add_answers

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        skip_or_fail("the recompute race needs PostgreSQL row locking (set DATABASE_URL)")


@pytest.fixture
def eager_tasks():
    """The race is between database transactions; the follow-up recompute runs in-process."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_submission_committed_during_a_running_recompute_is_scored(org_tree, eager_tasks):
    survey = SurveyFactory()
    question = QuestionFactory(survey=survey, code="nps", metric_key="customer.nps")
    ensure_metrics_for_questions()
    store = org_tree["stores"][0]
    period = survey.period_for(timezone.now())
    add_answers(question, store, [10], period=period)
    # An earlier submission's recompute is queued (in flight) for this survey and period.
    DirtyScoreCell.objects.create(survey=survey, period=period)

    def run_recompute() -> None:
        try:
            recompute_dirty_cell(survey_id=survey.pk, period=period)
        finally:
            connection.close()

    with transaction.atomic():
        submit_response(survey=survey, unit=store, answers={"nps": 0})
        # The recompute runs now and cannot see this uncommitted answer or its change-log
        # row; the row is applied by the pass the submission asks for after its commit.
        recompute = threading.Thread(target=run_recompute)
        recompute.start()
        time.sleep(1.0)
    recompute.join(timeout=30)

    row = MetricValue.objects.get(metric__key="customer.nps", unit=store, period=period)
    assert row.n == 2 and row.value == pytest.approx(0.0)
    assert not DirtyScoreCell.objects.exists()
