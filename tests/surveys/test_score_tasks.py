"""Score recompute tasks: options, idempotence, and coalescing of bursts of submissions."""

from datetime import timedelta
from unittest.mock import patch

import pytest
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachable

from common.broker import breaker
from surveys.models import DirtyScoreCell, MetricValue, Response
from surveys.services import submit_response
from surveys.services.metrics import ensure_metrics_for_questions
from surveys.services.scores import recompute_dirty_cell, sweep_dirty_cells
from surveys.tasks import recompute_dirty_cells_task, recompute_scores_task
from tests.factories import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db

PERIOD = "2026-01"


@pytest.fixture
def survey():
    survey = SurveyFactory()
    QuestionFactory(survey=survey, code="nps", metric_key="customer.nps")
    ensure_metrics_for_questions()
    return survey


@pytest.fixture
def broker_mode():
    """Tasks are sent, not run in the request (the sends are patched in each test)."""
    previous = recompute_scores_task.app.conf.task_always_eager
    recompute_scores_task.app.conf.task_always_eager = False
    breaker.reset()
    yield
    breaker.reset()
    recompute_scores_task.app.conf.task_always_eager = previous


@pytest.fixture
def store(org_tree):
    return org_tree["stores"][0]


def add_response(survey, unit, score, period=PERIOD):
    """A stored answer without the service (no dirty marking, no task)."""
    response = Response.objects.create(survey=survey, unit=unit, period=period)
    response.answers.create(question=survey.questions.get(code="nps"), number=score)


def dirty(survey, period=PERIOD, **fields):
    return DirtyScoreCell.objects.create(survey=survey, period=period, **fields)


def test_recompute_scores_task_retries_only_transient_database_errors():
    assert recompute_scores_task.acks_late is True
    assert set(recompute_scores_task.autoretry_for) == {OperationalError, InterfaceError}
    assert recompute_scores_task.retry_backoff is True
    assert recompute_scores_task.max_retries == 5


def test_recompute_scores_task_returns_quietly_when_survey_is_gone():
    assert recompute_scores_task(987654, PERIOD) is None
    assert not MetricValue.objects.exists()


def test_recompute_scores_task_is_idempotent(survey, store):
    add_response(survey, store, 10)
    add_response(survey, store, 2)
    dirty(survey)
    recompute_scores_task(survey.pk, PERIOD)
    first = sorted(MetricValue.objects.values_list("unit_id", "value", "n"))
    dirty(survey)
    recompute_scores_task(survey.pk, PERIOD)
    assert sorted(MetricValue.objects.values_list("unit_id", "value", "n")) == first
    assert len(first) == 3 and first[0][1:] == (0.0, 2)


def test_submission_logs_one_insert_only_row(survey, store):
    with patch("surveys.tasks.recompute_scores_task.apply_async"):
        for score in (10, 9):
            submit_response(survey=survey, unit=store, answers={"nps": score})
    rows = DirtyScoreCell.objects.filter(survey=survey)
    assert rows.count() == 2
    assert set(rows.values_list("response_id", flat=True)) == set(
        Response.objects.values_list("pk", flat=True)
    )


def test_submissions_in_one_period_queue_one_recompute(
    survey, store, django_capture_on_commit_callbacks, broker_mode
):
    with (
        patch("surveys.tasks.recompute_scores_task.apply_async") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for score in (10, 9, 3):
            submit_response(survey=survey, unit=store, answers={"nps": score})
    period = Response.objects.first().period
    delay.assert_called_once_with((survey.pk, period), retry=False)  # the first: no countdown
    assert DirtyScoreCell.objects.filter(survey=survey, period=period).count() == 3


def test_submission_with_broker_down_leaves_rows_for_the_sweep(
    survey, store, django_capture_on_commit_callbacks, broker_mode
):
    with (
        patch("surveys.tasks.recompute_scores_task.apply_async", side_effect=BrokerUnreachable()),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = submit_response(survey=survey, unit=store, answers={"nps": 10})
    breaker.reset()
    assert Response.objects.filter(pk=response.pk).exists()
    assert DirtyScoreCell.objects.filter(survey=survey).exists()
    assert sweep_dirty_cells() == 1
    assert MetricValue.objects.get(unit=store).value == 100.0
    assert not DirtyScoreCell.objects.exists()


def test_submission_stands_when_the_step_after_commit_fails(
    survey, store, django_capture_on_commit_callbacks, caplog
):
    # E.g. the database connection was cut right after the commit: the respondent must not
    # see an error for answers that are stored, or a retry would store them twice.
    with (
        patch(
            "surveys.services.scores.request_recompute",
            side_effect=OperationalError("server closed the connection unexpectedly"),
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = submit_response(survey=survey, unit=store, answers={"nps": 10})
    assert Response.objects.filter(pk=response.pk).exists()
    assert "server closed the connection" in caplog.text
    assert DirtyScoreCell.objects.filter(survey=survey).exists()
    assert sweep_dirty_cells() == 1 and MetricValue.objects.get(unit=store).value == 100.0


def test_recompute_dirty_cell_settles_rows_when_nothing_arrived_meanwhile(survey, store):
    add_response(survey, store, 9)
    dirty(survey, marked_at=timezone.now() - timedelta(seconds=1))
    with patch("surveys.tasks.recompute_scores_task.apply_async") as delay:
        recompute_dirty_cell(survey_id=survey.pk, period=PERIOD)
    assert not DirtyScoreCell.objects.exists() and not delay.called
    assert MetricValue.objects.get(unit=store).value == 100.0


def test_recompute_dirty_cell_requeues_once_when_rows_arrive_during_the_run(
    survey, store, settings, broker_mode
):
    settings.SCORE_RECOMPUTE_INTERVAL = 3.0
    dirty(survey, marked_at=timezone.now() - timedelta(seconds=1))

    def submission_arrives(**kwargs):
        dirty(survey)  # committed by another request while this pass computes
        return 0

    with (
        patch("surveys.services.scores.apply_responses", side_effect=submission_arrives),
        patch("surveys.tasks.recompute_scores_task.apply_async") as delay,
    ):
        recompute_dirty_cell(survey_id=survey.pk, period=PERIOD)
    # Submissions kept arriving: the next pass waits the interval instead of running now.
    delay.assert_called_once_with((survey.pk, PERIOD), retry=False, countdown=3.0)
    assert DirtyScoreCell.objects.count() == 1  # the newer row waits for that pass


def test_sweep_applies_every_cell_with_rows(survey, store):
    for period in ("2026-01", "2026-02"):
        add_response(survey, store, 10, period=period)
        dirty(survey, period)
    recompute_dirty_cells_task()
    assert not DirtyScoreCell.objects.exists()
    periods = set(MetricValue.objects.filter(unit=store).values_list("period", flat=True))
    assert periods == {"2026-01", "2026-02"}


def test_failing_eager_recompute_is_logged_as_error_and_left_for_the_sweep(
    survey, store, django_capture_on_commit_callbacks, caplog
):
    with (
        patch("surveys.services.scores.apply_responses", side_effect=RuntimeError("bug")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = submit_response(survey=survey, unit=store, answers={"nps": 10})
    assert Response.objects.filter(pk=response.pk).exists()
    assert DirtyScoreCell.objects.filter(survey=survey).exists()
    failures = [record for record in caplog.records if record.levelname == "ERROR"]
    assert failures and "Recompute of survey" in failures[0].getMessage()
