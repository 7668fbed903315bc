"""SQL-side aggregation of raw answers into MetricValue rows, with anonymity suppression.

Per metric, one GROUP BY over (answering unit, period) returns each cell's sufficient
statistics; numpy adds them up the org tree, the vectorised scoring functions score every
cell at once, suppression hides small employee groups (and siblings that would reveal them),
and one upsert writes what changed (`cells`, `store`). This module holds the entry points:
recompute by scope, the dirty-cell protocol the Celery tasks run, and ad-hoc group values.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from linkage.models import Metric
from linkage.services.metrics import ensure_metrics_for_questions

from ..models import DirtyScoreCell, OrgUnit, Question, Survey
from ..services import queue_recompute
from ..webhooks import notify_score_changed
from .cells import (
    STATISTICS,
    Cells,
    MetricFeed,
    UnitTree,
    aggregates,
    answers_of,
    compute_cells,
    metric_feeds,
    roll_up,
    score_statistics,
    suppression_mask,
)
from .store import cell_details, number, write_cells

__all__ = [
    "Cells",
    "GroupValue",
    "MetricFeed",
    "UnitTree",
    "compute_cells",
    "compute_group_value",
    "metric_feeds",
    "recompute_all",
    "recompute_cells",
    "recompute_dirty_cell",
    "roll_up",
    "suppression_mask",
    "sweep_dirty_cells",
    "write_cells",
]

Progress = Callable[[int, int], None]
_SEGMENT_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class GroupValue:
    """An ad-hoc score for a unit subtree; a suppressed group has no value and n = 0."""

    value: float | None
    n: int
    ci_low: float | None = None
    ci_high: float | None = None
    suppressed: bool = False
    details: dict[str, Any] = field(default_factory=dict)


def recompute_cells(
    *,
    survey_ids: Iterable[int] | None = None,
    periods: Iterable[str] | None = None,
    metric_keys: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> int:
    """Recompute MetricValues of survey metrics for every unit from raw answers.

    `survey_ids` narrows to the metrics those surveys feed (each metric still pools every
    survey feeding it), `metric_keys` to those metrics, `periods` to those period labels
    (None = all). Cells that no longer have answers are deleted. Returns rows written
    (new or changed; unchanged cells are left as they are).
    """
    keys = None if metric_keys is None else set(metric_keys)
    if survey_ids is not None:
        fed = Question.objects.filter(survey_id__in=list(survey_ids)).exclude(metric_key="")
        fed_keys = set(fed.values_list("metric_key", flat=True))
        keys = fed_keys if keys is None else keys & fed_keys
    periods = None if periods is None else list(periods)
    feeds = metric_feeds(keys)
    tree = UnitTree.load()
    written = 0
    for done, feed in enumerate(feeds, start=1):
        cells = compute_cells(feed, tree=tree, periods=periods)
        written += write_cells(feed, cells, periods=periods)
        if progress is not None:
            progress(done, len(feeds))
    return written


def recompute_dirty_cell(*, survey_id: int, period: str) -> None:
    """Recompute what one (survey, period) feeds, then settle its DirtyScoreCell.

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
    if recompute_cells(metric_keys=keys, periods=[period]):  # some stored value changed
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


def compute_group_value(
    *,
    metric: Metric,
    unit: OrgUnit,
    periods: Iterable[str],
    segment: Mapping[str, Any] | None = None,
) -> GroupValue:
    """Score one metric for a unit's subtree over one or more periods, pooled.

    `segment` filters on response segment attributes, e.g. {"product": "X"}. Same formulas
    and the same anonymity rules as stored cells: a group with fewer respondents than the
    threshold comes back suppressed (value None, n 0), and so does a unit hidden by the
    stored cells' suppression in any of `periods` (`_reveals_hidden_group`), so an ad-hoc
    value never reveals what the pages hide. A metric under an anonymity threshold takes no
    segment: a segment and the rest of its unit could be told apart by subtraction. A metric
    no question feeds yet (or an imported one) gives value None and n 0. Raises ValueError
    for a bad segment key or a segment on a metric with an anonymity threshold.
    """
    feeds = metric_feeds([metric.key])
    if not feeds or not feeds[0].question_ids:
        return GroupValue(value=None, n=0)
    feed, periods = feeds[0], list(periods)
    if feed.threshold and segment:
        raise ValueError(
            f"{metric} comes from anonymous answers (anonymity threshold {feed.threshold}): "
            "it cannot be narrowed by a segment, because the segment and the rest of its unit "
            "could reveal a small group. Choose a unit as the target group instead."
        )
    answers = answers_of(feed, periods).filter(
        _segment_filter(segment or {}), response__unit__path__startswith=unit.path
    )
    row = answers.aggregate(**aggregates(feed))
    statistics = [float(row[name] or 0) for name in STATISTICS[metric.aggregation]]
    respondents = int(row.get("respondents", statistics[0]) or 0)
    if respondents == 0:
        return GroupValue(value=None, n=0)
    if respondents < feed.threshold or _reveals_hidden_group(feed, unit=unit, periods=periods):
        return GroupValue(value=None, n=0, suppressed=True, details={"threshold": feed.threshold})
    scored = score_statistics(metric, np.array([statistics]))
    extra = {name: number(array[0]) for name, array in scored.extra.items()}
    return GroupValue(
        value=number(scored.values[0]),
        n=respondents,
        ci_low=number(scored.ci_low[0]),
        ci_high=number(scored.ci_high[0]),
        details=cell_details(metric.aggregation, statistics, scored.flags[0], extra),
    )


def _reveals_hidden_group(feed: MetricFeed, *, unit: OrgUnit, periods: list[str]) -> bool:
    """Whether a group value would let a hidden group be recovered by subtraction.

    The unit's cells are scored as stored, with complementary suppression (fresh from the
    answers, not from possibly stale MetricValue rows). A unit hidden in any of the periods
    stays hidden when pooled: pooled minus the visible periods would show it.
    """
    if not feed.threshold:
        return False
    cells = compute_cells(feed, tree=UnitTree.load(), periods=periods)
    return bool(cells.suppressed[cells.unit_ids == unit.pk].any())


def _segment_filter(segment: Mapping[str, Any]) -> Q:
    condition = Q()
    for key, value in segment.items():
        # A key like "product__contains" would become a lookup, not an attribute name.
        if not isinstance(key, str) or not _SEGMENT_KEY.match(key) or "__" in key:
            raise ValueError(f"'{key}' is not a segment attribute name (letters, digits, _).")
        if not isinstance(value, str | int | float | bool):
            raise ValueError(f"Segment '{key}' must be a single text or number value.")
        condition &= Q(**{f"response__segment__{key}": value})
    return condition
