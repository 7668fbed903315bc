"""Keeping stored scores current: the dirty-cell protocol and full recomputes.

A submission marks its (survey, period) cell dirty in its own transaction and queues one
recompute after commit (`mark_scores_dirty`); the worker recomputes the metrics that cell
feeds from raw answers (`recompute_dirty_cell`) and settles the mark; a periodic sweep picks
up cells whose task never reached the broker or was lost (`sweep_dirty_cells`).
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from common.broker import publish

from ..aggregation import Progress, recompute_cells
from ..models import DirtyScoreCell, Survey
from ..tasks import recompute_scores_task
from .metrics import ensure_metrics_for_questions
from .webhooks import notify_score_changed

logger = logging.getLogger(__name__)


def mark_scores_dirty(*, survey_id: int, period: str) -> None:
    """Record that (survey, period) needs a recompute and queue one after commit.

    At most one recompute per cell is queued at a time; later submissions only bump
    `marked_at`, which the running task notices and re-queues itself for. The mark is made
    twice: in the transaction, so it is stored with the answers even if the broker is down,
    and again after commit, so a recompute that started before the commit (and so could not
    see these answers) finds a newer mark and runs once more instead of settling the cell.
    """
    _mark_dirty(survey_id=survey_id, period=period)
    # Robust: the answers are committed by then; if this step fails (database gone for a
    # moment), the in-transaction mark stays for the sweep and the respondent still gets a
    # success rather than an error inviting a duplicate resubmission.
    transaction.on_commit(
        lambda: _mark_dirty_and_queue(survey_id=survey_id, period=period), robust=True
    )


def _mark_dirty(*, survey_id: int, period: str) -> None:
    now = timezone.now()
    DirtyScoreCell.objects.bulk_create(
        [DirtyScoreCell(survey_id=survey_id, period=period, marked_at=now)], ignore_conflicts=True
    )
    DirtyScoreCell.objects.filter(survey_id=survey_id, period=period).update(marked_at=now)


def _mark_dirty_and_queue(*, survey_id: int, period: str) -> None:
    _mark_dirty(survey_id=survey_id, period=period)
    cells = DirtyScoreCell.objects.filter(survey_id=survey_id, period=period, queued_at=None)
    if cells.update(queued_at=timezone.now()):
        queue_recompute(survey_id=survey_id, period=period)


def queue_recompute(*, survey_id: int, period: str, delay: float = 0.0) -> bool:
    """Send the recompute task (after `delay` seconds); if the broker is unreachable leave
    the cell for the sweep.

    In eager mode (no broker) `.delay` runs the recompute inline, so an exception can also
    come from the recompute itself: it is logged as an error with its traceback rather than
    as a broker problem. Either way the submission stands and the sweep retries the cell.
    """
    try:
        publish(recompute_scores_task, (survey_id, period), countdown=delay)
    except Exception:  # broker down, or (eager) the recompute failed: the sweep retries
        if recompute_scores_task.app.conf.task_always_eager:
            logger.exception("Recompute of survey %s %s failed", survey_id, period)
        else:
            logger.warning(
                "Could not queue recompute of survey %s %s", survey_id, period, exc_info=True
            )
        DirtyScoreCell.objects.filter(survey_id=survey_id, period=period).update(queued_at=None)
        return False
    return True


def recompute_dirty_cell(*, survey_id: int, period: str) -> None:
    """Recompute what one (survey, period) feeds, then settle its DirtyScoreCell (employee
    and anonymous surveys: nothing to recompute before their release).

    Coalescing protocol: the start time is taken first; if no submission marked the cell
    after it, the cell is deleted. Otherwise the cell is claimed again (queued_at = now) and
    one more recompute is queued, SCORE_RECOMPUTE_INTERVAL seconds later, so a steady stream
    of submissions costs one recompute every few seconds, not one per answer and not a
    worker kept busy. A deleted survey is a quiet no-op (its cell went with it).
    """
    started = timezone.now()
    survey = Survey.objects.filter(pk=survey_id).first()
    if survey is None:
        return
    questions = list(survey.questions.exclude(metric_key="").only("metric_key", "type"))
    ensure_metrics_for_questions(questions)
    keys = {question.metric_key for question in questions}
    # Employee and anonymous answers count only once released, and the release recomputes
    # what it publishes (`releases`): a recompute here would change nothing, and one racing
    # a release could write back the scores the release just replaced.
    if survey.is_confidential:
        keys = set()
    if keys and recompute_cells(metric_keys=keys, periods=[period]):  # some value changed
        notify_score_changed(survey_id=survey_id, period=period, metric_keys=keys)
    cell = DirtyScoreCell.objects.filter(survey_id=survey_id, period=period)
    if cell.filter(marked_at__lte=started).delete()[0]:
        return
    if cell.update(queued_at=timezone.now()):
        # queue_recompute resets queued_at if the broker refuses, leaving it to the sweep.
        queue_recompute(survey_id=survey_id, period=period, delay=settings.SCORE_RECOMPUTE_INTERVAL)


def sweep_dirty_cells() -> int:
    """Recompute dirty cells whose task was never queued (broker down) or looks lost.

    Each cell is claimed (queued_at = now) before it is computed, so overlapping sweeps and
    new submissions do not queue it twice. Returns the number of cells swept.
    """
    now = timezone.now()
    # A queued task not finished by then is presumed lost (e.g. its worker was killed).
    lost_after = timedelta(seconds=settings.SCORE_TASK_LOST_AFTER)
    due = Q(queued_at__isnull=True) | Q(queued_at__lt=now - lost_after)
    swept = 0
    for survey_id, period in DirtyScoreCell.objects.filter(due).values_list("survey_id", "period"):
        cell = DirtyScoreCell.objects.filter(due, survey_id=survey_id, period=period)
        if cell.update(queued_at=now):
            recompute_dirty_cell(survey_id=survey_id, period=period)
            swept += 1
    return swept


def recompute_all(progress: Progress | None = None) -> int:
    """Recompute every survey metric for every unit and period; settle all dirty cells.

    `progress(done, total)` is called after each metric (the CLI draws a bar with it).
    Returns the number of rows written (new or changed).
    """
    started = timezone.now()
    ensure_metrics_for_questions()
    written = recompute_cells(progress=progress)
    DirtyScoreCell.objects.filter(marked_at__lte=started).delete()
    return written


def recompute_metric(*, metric_key: str) -> int:
    """Recompute every stored value of one survey metric (after its scoring was edited);
    a metric that is gone or imported writes nothing. Returns rows written."""
    return recompute_cells(metric_keys=[metric_key])


def recompute_scores(
    *,
    survey_ids: Iterable[int] | None = None,
    periods: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> int:
    """Recompute stored scores from raw answers: all of them (settling every dirty cell), or
    only what `survey_ids` feed in `periods`. Returns rows written (new or changed)."""
    if survey_ids is None and periods is None:
        return recompute_all(progress=progress)
    return recompute_cells(survey_ids=survey_ids, periods=periods, progress=progress)
