"""Writing scored cells as MetricValue rows: one upsert of what changed, stale rows deleted.

Suppressed cells are stored with value, CI and n empty/zero and `details` holding only the
threshold, so no reader of the table, not even a raw SQL export, learns a hidden group's
count or score. Visible cells keep their counts in `details` (answers, promoters/passives/
detractors, k, or sum and sum of squares) with the plausibility flags.
"""

import math
from typing import Any

from django.db import transaction

from ..models import MetricValue
from .cells import MULTI_ITEM_STATISTICS, STATISTICS, A, Cells, MetricFeed

WRITE_BATCH = 2000
COMPARED_FIELDS = ("value", "n", "ci_low", "ci_high", "suppressed", "details")


def number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def cell_details(
    aggregation: str, statistics: list[float], flags: list[str], extra: dict[str, float | None]
) -> dict[str, Any]:
    """Counts and flags kept with a visible cell (never with a suppressed one)."""
    answers, *rest = (int(value) if float(value).is_integer() else value for value in statistics)
    names = STATISTICS[aggregation][1:]
    if len(rest) > len(names):  # a multi-item mean: per-respondent sums, then respondents
        names = (*names, *MULTI_ITEM_STATISTICS, "respondents")
    details: dict[str, Any] = {"answers": answers, **dict(zip(names, rest, strict=False))}
    if aggregation == A.NPS:
        details["passives"] = answers - details["promoters"] - details["detractors"]
        details["adjusted_ci"] = [extra["adjusted_low"], extra["adjusted_high"]]
        details["wald_ci"] = [extra.get("wald_low"), extra.get("wald_high")]
    details["flags"] = flags
    return details


def _metric_value(feed: MetricFeed, cells: Cells, index: int, statistics: list[float]):
    period, unit_id = cells.periods[index], int(cells.unit_ids[index])
    if cells.suppressed[index]:
        return MetricValue(
            metric=feed.metric,
            unit_id=unit_id,
            period=period,
            n=0,
            suppressed=True,
            details={"threshold": feed.threshold},
        )
    extra = {name: number(array[index]) for name, array in cells.extra.items()}
    return MetricValue(
        metric=feed.metric,
        unit_id=unit_id,
        period=period,
        value=number(cells.values[index]),
        ci_low=number(cells.ci_low[index]),
        ci_high=number(cells.ci_high[index]),
        n=int(statistics[-1]),
        details=cell_details(
            feed.metric.aggregation,
            statistics if feed.multi_item else statistics[:-1],
            cells.flags[index],
            extra,
        ),
    )


def _stored(feed: MetricFeed, periods: list[str] | None) -> dict[tuple[int, str], tuple]:
    """Computed rows already stored for the metric in scope: (unit, period) → (pk, fields)."""
    rows = MetricValue.objects.filter(metric=feed.metric, source=MetricValue.Source.COMPUTED)
    if periods is not None:
        rows = rows.filter(period__in=periods)
    fields = rows.values_list("pk", "unit_id", "period", *COMPARED_FIELDS)
    return {(unit_id, period): (pk, tuple(rest)) for pk, unit_id, period, *rest in fields}


@transaction.atomic
def write_cells(feed: MetricFeed, cells: Cells, *, periods: list[str] | None) -> int:
    """Upsert the cells that changed and delete stored cells no answer backs any more.

    `periods` is the scope that was computed (None = all). Unchanged cells are not
    rewritten: a recompute after one submission writes the few cells on that unit's path.
    Returns the number of rows written.
    """
    stored = _stored(feed, periods)
    changed = []
    for index, statistics in enumerate(cells.statistics.tolist()):
        row = _metric_value(feed, cells, index, statistics)
        previous = stored.pop((row.unit_id, row.period), None)
        if previous is None or previous[1] != tuple(getattr(row, f) for f in COMPARED_FIELDS):
            changed.append(row)
    MetricValue.objects.bulk_create(
        changed,
        batch_size=WRITE_BATCH,
        update_conflicts=True,
        unique_fields=["metric", "unit", "period"],
        update_fields=[*COMPARED_FIELDS, "source", "computed_at"],
    )
    stale = [pk for pk, _ in stored.values()]  # what is left lost all its answers
    for start in range(0, len(stale), WRITE_BATCH):
        MetricValue.objects.filter(pk__in=stale[start : start + WRITE_BATCH]).delete()
    return len(changed)
