"""Read model of a unit's page: its headline and diagnostics over time, and its child units
side by side, each value with its interval, flags and a test against the parent.

Values come from `surveys.selectors.metric_values` (scope, suppression and release applied
there); hidden cells stay hidden here and are never used in a test. A child is tested
against the rest of its parent (the same t as child − parent, which contains the child):
- a child with stores below it: cluster-robust by store (`surveys.scoring.clustered`), as
  its respondents come in stores;
- a store or team: `surveys.scoring.compare`, its own answers against the pooled answers of
  the other visible stores of the parent.
p-values are Holm-adjusted across the children of one metric, so a page of 14 stores does
not flag one by chance.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from django.db.models import Q

from linkage.comparisons import result_from_details
from linkage.models import Barometer, PerformanceExpectation
from surveys import periods, scoring
from surveys.aggregation import STATISTICS, metric_feeds
from surveys.models import Metric, MetricValue, OrgUnit
from surveys.scoring.clustered import clustered_change
from surveys.scoring.multiplicity import adjust_comparisons
from surveys.selectors import metric_values
from surveys.visibility import Reader

HISTORY = 12
LEAF_LEVELS = (OrgUnit.Level.STORE, OrgUnit.Level.TEAM)
A = Metric.Aggregation
# Coded outcome per answer for the cluster sums, and the scale to report points.
_TOTAL: dict[str, tuple[str, str | None, float]] = {
    A.NPS: ("promoters", "detractors", 100.0),
    A.TOP_BOX: ("k", None, 100.0),
}
_TOTAL[A.RATE] = _TOTAL[A.TOP_BOX]
_TOTAL[A.MEAN] = ("sum", None, 1.0)


@dataclass(frozen=True)
class Cell:
    """One metric of one unit in one period, as the reader may see it."""

    period: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    hidden: bool
    flags: tuple[str, ...] = ()
    versus_parent: Any | None = None  # scoring.Comparison of child vs rest of parent
    difference: float | None = None  # child − parent, both visible


@dataclass(frozen=True)
class Trend:
    metric: Metric
    role: str  # "barometer" or "diagnostic"
    points: list[Cell]
    target: float | None
    threshold: int
    agreed_period: str | None = None

    @property
    def latest(self) -> Cell | None:
        present = [point for point in self.points if point.value is not None or point.hidden]
        return present[-1] if present else None


@dataclass(frozen=True)
class ChildRow:
    unit: OrgUnit
    cells: dict[str, Cell | None]  # metric key → cell at the parent's latest period


@dataclass(frozen=True)
class UnitOverview:
    unit: OrgUnit
    barometer: Barometer | None
    metrics: list[Metric]
    trends: list[Trend]
    children: list[ChildRow]
    heat_metric: Metric | None
    heat_periods: list[str]
    heat_rows: list[tuple[OrgUnit, list[Cell | None]]] = field(default_factory=list)


def _cell(row: MetricValue) -> Cell:
    flags = () if row.suppressed else tuple((row.details or {}).get("flags", []))
    return Cell(row.period, row.value, row.ci_low, row.ci_high, row.n, row.suppressed, flags)


def overall_metrics(barometer: Barometer | None) -> list[Metric]:
    """The barometer first, then the other overall (tactical) measures in chain order."""
    condition = Q(level=Metric.Level.TACTICAL)
    if barometer is not None:
        condition |= Q(pk=barometer.metric_id)
    metrics = list(Metric.objects.filter(condition).order_by("chain_stage", "key"))
    if barometer is not None:
        metrics.sort(key=lambda metric: metric.pk != barometer.metric_id)
    return metrics


def unit_overview(unit: OrgUnit, *, reader: Reader) -> UnitOverview:
    """Trends of the unit's overall measures and its children compared (see module doc)."""
    barometer = Barometer.objects.select_related("metric").filter(in_force=True).first()
    metrics = overall_metrics(barometer)
    keys = [metric.key for metric in metrics]
    rows = metric_values(reader=reader, metric_keys=keys, unit=unit).filter(
        Q(unit=unit) | Q(unit__parent=unit) | Q(unit__level__in=LEAF_LEVELS),
        period__gte=periods.WINDOW_FIRST,
        period__lte=periods.WINDOW_LAST,
    )
    own: dict[str, dict[str, MetricValue]] = defaultdict(dict)
    cells: dict[tuple[str, int], dict[str, MetricValue]] = defaultdict(dict)
    for row in rows:
        if row.unit_id == unit.pk:
            own[row.metric.key][row.period] = row
        cells[(row.metric.key, row.unit_id)][row.period] = row
    thresholds = {feed.metric.key: feed.threshold for feed in metric_feeds(keys)}
    targets = _targets(unit, metrics)
    agreed = (
        periods.label_for(barometer.started_at, periods.MONTH) if barometer is not None else None
    )
    trends, latest = [], {}
    for metric in metrics:
        if not own[metric.key]:
            continue
        last = max(own[metric.key], key=periods.index_of)
        latest[metric.key] = last
        labels = [periods.shift(last, step) for step in range(1 - HISTORY, 1)]
        points = [
            _cell(own[metric.key][label])
            if label in own[metric.key]
            else Cell(label, None, None, None, None, False)
            for label in labels
        ]
        is_barometer = barometer is not None and metric.pk == barometer.metric_id
        trends.append(
            Trend(
                metric,
                "barometer" if is_barometer else "diagnostic",
                points,
                targets.get(metric.pk),
                thresholds.get(metric.key, 0),
                agreed if is_barometer else None,
            )
        )
    children = list(unit.children.order_by("name"))
    shown = [metric for metric in metrics if metric.key in latest]
    child_rows = _child_rows(unit, children, shown, cells, latest, rows)
    heat_metric = shown[0] if shown else None
    heat_periods: list[str] = []
    heat_rows: list[tuple[OrgUnit, list[Cell | None]]] = []
    if heat_metric is not None and children:
        heat_periods = [point.period for point in trends[0].points]
        for child in children:
            by_period = cells.get((heat_metric.key, child.pk), {})
            heat_rows.append(
                (child, [_cell(by_period[p]) if p in by_period else None for p in heat_periods])
            )
    return UnitOverview(
        unit, barometer, shown, trends, child_rows, heat_metric, heat_periods, heat_rows
    )


def _targets(unit: OrgUnit, metrics: Iterable[Metric]) -> dict[int, float]:
    expectations = PerformanceExpectation.objects.filter(
        unit=unit, metric__in=list(metrics), target_value__isnull=False
    ).order_by("end_date")
    return {
        expectation.metric_id: expectation.target_value
        for expectation in expectations
        if expectation.target_value is not None
    }


def _child_rows(
    unit: OrgUnit,
    children: list[OrgUnit],
    metrics: list[Metric],
    cells: Mapping[tuple[str, int], dict[str, MetricValue]],
    latest: Mapping[str, str],
    rows: Any,
) -> list[ChildRow]:
    leaves = {
        row.unit_id: row.unit.path
        for row in rows
        if row.unit.level in LEAF_LEVELS and row.unit_id != unit.pk
    }
    per_child: dict[int, dict[str, Cell | None]] = {child.pk: {} for child in children}
    for metric in metrics:
        period = latest[metric.key]
        parent_row = cells.get((metric.key, unit.pk), {}).get(period)
        leaf_rows = {
            unit_id: cells[(metric.key, unit_id)][period]
            for unit_id in leaves
            if period in cells.get((metric.key, unit_id), {})
        }
        found = [(child, cells.get((metric.key, child.pk), {}).get(period)) for child in children]
        tests = [
            _versus_parent(metric, child, row, leaf_rows) if row is not None else None
            for child, row in found
        ]
        adjusted = iter(adjust_comparisons([test for test in tests if test is not None]))
        parent_value = parent_row.value if parent_row is not None else None
        for (child, row), test in zip(found, tests, strict=True):
            if row is None:
                per_child[child.pk][metric.key] = None
                continue
            cell = _cell(row)
            versus = next(adjusted) if test is not None else None
            if not cell.hidden and versus is not None:
                cell = replace(cell, versus_parent=versus)
            if not cell.hidden and parent_value is not None and row.value is not None:
                cell = replace(cell, difference=row.value - parent_value)
            per_child[child.pk][metric.key] = cell
    return [ChildRow(child, per_child[child.pk]) for child in children]


def _versus_parent(
    metric: Metric, child: OrgUnit, row: MetricValue, leaf_rows: Mapping[int, MetricValue]
) -> Any | None:
    """Child against the rest of its parent from visible counts only; None without counts."""
    if row.suppressed or metric.aggregation not in _TOTAL:
        return None
    visible = {
        unit_id: leaf.details
        for unit_id, leaf in leaf_rows.items()
        if not leaf.suppressed and leaf.details
    }
    inside = {uid for uid, leaf in leaf_rows.items() if leaf.unit.path.startswith(child.path)}
    if child.level in LEAF_LEVELS or len(inside & set(visible)) < 2:
        rest = _pooled(metric, [d for uid, d in visible.items() if uid not in inside])
        own = result_from_details(metric.aggregation, row.details or {})
        if rest is None or own is None:
            return None
        return scoring.compare(rest, own)
    plus, minus, scale = _TOTAL[metric.aggregation]
    ordered = list(visible)
    n = np.array([float(visible[uid].get("answers") or 0) for uid in ordered])
    total = np.array(
        [
            float(visible[uid].get(plus) or 0) - float(visible[uid].get(minus) or 0 if minus else 0)
            for uid in ordered
        ]
    )
    mine = np.array([uid in inside for uid in ordered])
    if not mine.any() or mine.all():
        return None
    zero = np.zeros_like(n)
    return clustered_change(
        np.where(mine, zero, n),
        np.where(mine, zero, total),
        np.where(mine, n, zero),
        np.where(mine, total, zero),
        scale=scale,
    )


def _pooled(metric: Metric, details: list[Mapping[str, Any]]) -> Any | None:
    names = STATISTICS.get(metric.aggregation, ())
    summed = {name: sum(float(d.get(name) or 0) for d in details) for name in names}
    if names:
        summed[names[0]] = int(summed[names[0]])
    for name in names[1:]:
        if metric.aggregation in (A.NPS, A.TOP_BOX, A.RATE):
            summed[name] = int(summed[name])
    return result_from_details(metric.aggregation, summed)
