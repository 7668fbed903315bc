"""Keeping stored scores current: the change log of submissions and full recomputes.

A submission inserts one DirtyScoreCell row (its survey, period and response) in its own
transaction: an insert-only log, so no row is shared, updated or locked by every submission.
After commit it asks for a recompute of its (survey, period) cell (`request_recompute`); a
short-lived cache key coalesces a burst of submissions into one task. The task
(`recompute_dirty_cell`) claims the log rows it can see, applies them to the stored scores
and deletes them in one transaction, then queues itself once more, SCORE_RECOMPUTE_INTERVAL
seconds later, if rows arrived meanwhile. A periodic sweep applies rows whose task never
reached the broker or was lost (`sweep_dirty_cells`).

Embedded mode (no broker) runs the same pass inside the request, coalesced the same way:
a request whose cell is being recomputed by another one returns at once, and rows left
behind by a finished pass are applied by one background thread, never by recursion.
"""

import logging
import threading
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction

from common import cachesafe
from common.broker import publish

from ..aggregation import Progress, apply_responses, lock_metrics, recompute_cells
from ..models import DirtyScoreCell, Metric, Survey
from ..tasks import recompute_scores_task
from .metrics import ensure_metrics_for_questions
from .rows import insert_row
from .webhooks import notify_score_changed

logger = logging.getLogger(__name__)


def mark_scores_dirty(*, survey_id: int, period: str, response_id: int | None = None) -> None:
    """Log that (survey, period) changed — by one new response, or (None) by a batch that
    needs the cell recomputed from raw answers — and ask for a recompute after commit.

    One INSERT in the caller's transaction, so the mark is stored exactly with the answers
    even if the broker is down. Robust after commit: the answers are committed by then; a
    failure here leaves the row for the sweep and the respondent still gets a success.
    """
    # A plain INSERT: the ORM's save of this small row cost as much CPU as the answers.
    insert_row(DirtyScoreCell(survey_id=survey_id, period=period, response_id=response_id))
    transaction.on_commit(
        lambda: request_recompute(survey_id=survey_id, period=period), robust=True
    )


def _pending_key(survey_id: int, period: str) -> str:
    return f"score-recompute:{survey_id}:{period}"


def _claim_key(survey_id: int, period: str) -> bool:
    """True for the one caller that may start a recompute of the cell now (every caller
    while the cache is unavailable: the passes coalesce in the database instead)."""
    timeout = max(settings.SCORE_RECOMPUTE_INTERVAL, 1.0) * 30
    return cachesafe.add(_pending_key(survey_id, period), 1, timeout, unavailable=True)


def _release_key(survey_id: int, period: str) -> None:
    cachesafe.delete(_pending_key(survey_id, period))


def hold_recompute(*, survey_id: int, period: str) -> None:
    """Keep submissions and imports from starting a recompute of the cell for a while (the
    caller recomputes everything itself, e.g. the demo seeder); the sweep still applies."""
    _claim_key(survey_id, period)


def request_recompute(*, survey_id: int, period: str) -> None:
    """After a commit: start the cell's recompute unless one is queued or running.

    The key is held from the queueing until the task has found no newer rows, so a
    submission either sees it (and the task will see its row) or queues a task itself.
    """
    if not _claim_key(survey_id, period):
        return
    if recompute_scores_task.app.conf.task_always_eager:
        _eager_pass(survey_id, period)
    elif not queue_recompute(survey_id=survey_id, period=period):
        _release_key(survey_id, period)


def queue_recompute(*, survey_id: int, period: str, delay: float = 0.0) -> bool:
    """Send the recompute task (after `delay` seconds); if the broker is unreachable leave
    the rows for the sweep. Returns whether it was sent."""
    try:
        publish(recompute_scores_task, (survey_id, period), countdown=delay)
    except Exception:  # broker down: the sweep applies the rows
        logger.warning(
            "Could not queue recompute of survey %s %s", survey_id, period, exc_info=True
        )
        return False
    return True


def _eager_pass(survey_id: int, period: str) -> None:
    """Embedded mode: one pass in this thread (it holds the key); rows that arrived during
    it are handed to one background thread, so no request waits for others' answers."""
    try:
        apply_dirty_cell(survey_id=survey_id, period=period)
    except Exception:  # the submission stands; the next pass or the sweep retries
        logger.exception("Recompute of survey %s %s failed", survey_id, period)
        return
    finally:
        _release_key(survey_id, period)
    if _has_rows(survey_id, period) and _claim_key(survey_id, period):
        threading.Thread(target=_background_pass, args=(survey_id, period), daemon=True).start()


def _background_pass(survey_id: int, period: str) -> None:
    try:
        _eager_pass(survey_id, period)
    finally:
        connection.close()


def _has_rows(survey_id: int, period: str) -> bool:
    return DirtyScoreCell.objects.filter(survey_id=survey_id, period=period).exists()


def recompute_dirty_cell(*, survey_id: int, period: str) -> None:
    """The task: apply the cell's logged changes; if more arrived meanwhile, queue one more
    pass SCORE_RECOMPUTE_INTERVAL seconds later (a steady stream costs one pass every few
    seconds, not one per answer). The coalescing key is dropped before looking for newer
    rows, so a submission committing after the look queues its own task."""
    try:
        apply_dirty_cell(survey_id=survey_id, period=period)
    finally:
        _release_key(survey_id, period)
    if _has_rows(survey_id, period) and _claim_key(survey_id, period):
        delay = settings.SCORE_RECOMPUTE_INTERVAL
        if not queue_recompute(survey_id=survey_id, period=period, delay=delay):
            _release_key(survey_id, period)


def _survey_metric_keys(survey: Survey) -> set[str]:
    questions = list(survey.questions.exclude(metric_key="").only("metric_key", "type"))
    ensure_metrics_for_questions(questions)
    return {question.metric_key for question in questions}


def apply_dirty_cell(*, survey_id: int, period: str) -> int:
    """Apply the logged changes of one (survey, period) to the stored scores, once.

    In one transaction, holding the locks of the metrics the survey feeds: the rows visible
    now are claimed, what they feed is recomputed, and they are deleted — a concurrent pass
    waits for the locks and then finds them gone. Employee and anonymous surveys change
    nothing here: their answers count only once released, and the release recomputes what
    it publishes (`releases`); a recompute racing a release could write back older scores.
    Returns the number of rows applied. A deleted survey is a quiet no-op.
    """
    survey = Survey.objects.filter(pk=survey_id).first()
    if survey is None:
        return 0
    keys = _survey_metric_keys(survey)  # metrics exist from the first answer on
    if survey.is_confidential:
        keys = set()
    with transaction.atomic():
        lock_metrics(Metric.objects.filter(key__in=keys))
        rows = list(
            DirtyScoreCell.objects.filter(survey_id=survey_id, period=period).values_list(
                "pk", "response_id"
            )
        )
        if not rows:
            return 0
        # Claimed: gone for this transaction (a full recompute in it counts their answers),
        # still there for others until commit (theirs leave them out).
        DirtyScoreCell.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        response_ids = [response_id for _, response_id in rows if response_id is not None]
        whole = len(response_ids) < len(rows)  # a batch that listed no responses
        changed = bool(keys) and apply_responses(
            metric_keys=keys, period=period, response_ids=None if whole else response_ids
        )
    if changed:
        notify_score_changed(survey_id=survey_id, period=period, metric_keys=keys)
    return len(rows)


def sweep_dirty_cells() -> int:
    """Apply every cell with logged changes whose task never ran (broker down, worker lost).

    Safe beside running tasks: each pass claims its rows under the metrics' locks. Returns
    the number of cells swept.
    """
    cells = DirtyScoreCell.objects.values_list("survey_id", "period").distinct()
    swept = 0
    for survey_id, period in list(cells):
        apply_dirty_cell(survey_id=survey_id, period=period)
        swept += 1
    return swept


def recompute_all(progress: Progress | None = None) -> int:
    """Recompute every survey metric for every unit and period from raw answers, then apply
    the change log (responses the recompute left to their pass).

    `progress(done, total)` is called after each metric (the CLI draws a bar with it).
    Returns the number of rows written (new or changed).
    """
    # Batch marks seen now are covered by the recompute (it counts their answers); rows of
    # single responses are left out of it and added by their pass in the sweep.
    batches = list(DirtyScoreCell.objects.filter(response=None).values_list("pk", flat=True))
    ensure_metrics_for_questions()
    written = recompute_cells(progress=progress)
    DirtyScoreCell.objects.filter(pk__in=batches).delete()
    sweep_dirty_cells()
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
