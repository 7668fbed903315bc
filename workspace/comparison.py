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
from surveys.models import Metric, OrgUnit
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


def _cell(row: "_Value") -> Cell:
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


@dataclass(frozen=True)
class _Value:
    """A masked MetricValue row read as plain values (thousands per page: no model objects)."""

    metric_key: str
    unit_id: int
    unit_path: str
    unit_level: str
    period: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    suppressed: bool
    details: dict


_COLUMNS = (
    *("metric__key", "unit_id", "unit__path", "unit__level", "period", "value"),
    *("ci_low", "ci_high", "n", "suppressed", "details"),
)


def _values(rows: Any) -> list[_Value]:
    """Rows of a `metric_values` queryset, with suppressed cells masked as that selector's
    model rows are (no value, interval, count or details)."""
    loaded = []
    for key, unit_id, path, level, period, value, low, high, n, hidden, details in rows.values_list(
        *_COLUMNS
    ):
        if hidden:
            value = low = high = n = None
            details = {}
        loaded.append(
            _Value(key, unit_id, path, level, period, value, low, high, n, hidden, details or {})
        )
    return loaded


def unit_overview(unit: OrgUnit, *, reader: Reader) -> UnitOverview:
    """Trends of the unit's overall measures and its children compared (see module doc)."""
    barometer = Barometer.objects.select_related("metric").filter(in_force=True).first()
    metrics = overall_metrics(barometer)
    keys = [metric.key for metric in metrics]
    own: dict[str, dict[str, _Value]] = defaultdict(dict)
    own_rows = metric_values(reader=reader, metric_keys=keys, unit=unit, subtree=False)
    window = {"period__gte": periods.WINDOW_FIRST, "period__lte": periods.WINDOW_LAST}
    for row in _values(own_rows.filter(**window)):
        own[row.metric_key][row.period] = row
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
    if not children or not shown:
        return UnitOverview(unit, barometer, shown, trends, [], None, [])
    # Children and stores below at each metric's latest period only (tests and league).
    below = metric_values(reader=reader, metric_keys=list(latest), unit=unit).filter(
        Q(unit__parent=unit) | Q(unit__level__in=LEAF_LEVELS), period__in=set(latest.values())
    )
    cells: dict[tuple[str, int], dict[str, _Value]] = defaultdict(dict)
    for row in _values(below.exclude(unit=unit)):
        if row.period == latest[row.metric_key]:
            cells[(row.metric_key, row.unit_id)][row.period] = row
    for key, by_period in own.items():
        cells[(key, unit.pk)] = by_period
    child_rows = _child_rows(unit, children, shown, cells, latest)
    heat_metric, heat_periods = shown[0], [point.period for point in trends[0].points]
    heat: dict[int, dict[str, _Value]] = defaultdict(dict)
    heat_query = metric_values(reader=reader, metric_keys=[heat_metric.key], unit=unit)
    for row in _values(heat_query.filter(unit__parent=unit, period__in=heat_periods)):
        heat[row.unit_id][row.period] = row
    heat_rows = [
        (child, [_cell(heat[child.pk][p]) if p in heat[child.pk] else None for p in heat_periods])
        for child in children
    ]
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
    cells: Mapping[tuple[str, int], dict[str, _Value]],
    latest: Mapping[str, str],
) -> list[ChildRow]:
    leaves = {
        row.unit_id: row.unit_path
        for by_period in cells.values()
        for row in by_period.values()
        if row.unit_level in LEAF_LEVELS and row.unit_id != unit.pk
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
        visible = _VisibleLeaves.of(metric, leaf_rows)
        found = [(child, cells.get((metric.key, child.pk), {}).get(period)) for child in children]
        tests = [
            _versus_parent(metric, child, row, visible) if row is not None else None
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


@dataclass(frozen=True)
class _VisibleLeaves:
    """The shown stores of a parent at one period: their counts (as arrays for the cluster
    sums), paths and summed counts, built once per metric for all the children."""

    details: Mapping[int, Mapping[str, Any]]
    paths: dict[int, str]
    totals: dict[str, float]
    ordered_paths: list[str]
    n: np.ndarray
    coded: np.ndarray

    @classmethod
    def of(cls, metric: Metric, leaf_rows: Mapping[int, _Value]) -> "_VisibleLeaves":
        shown = {uid: leaf for uid, leaf in leaf_rows.items() if not leaf.suppressed}
        details = {uid: leaf.details for uid, leaf in shown.items() if leaf.details}
        names = STATISTICS.get(metric.aggregation, ())
        totals = {name: sum(float(d.get(name) or 0) for d in details.values()) for name in names}
        paths = {uid: leaf.unit_path for uid, leaf in leaf_rows.items()}
        plus, minus, _ = _TOTAL.get(metric.aggregation, ("answers", None, 1.0))
        counts = list(details.values())
        n = np.array([float(d.get("answers") or 0) for d in counts])
        coded = np.array(
            [float(d.get(plus) or 0) - (float(d.get(minus) or 0) if minus else 0.0) for d in counts]
        )
        return cls(details, paths, totals, [paths[uid] for uid in details], n, coded)


def _versus_parent(
    metric: Metric, child: OrgUnit, row: _Value, visible: _VisibleLeaves
) -> Any | None:
    """Child against the rest of its parent from visible counts only; None without counts."""
    if row.suppressed or metric.aggregation not in _TOTAL:
        return None
    mine = np.array([path.startswith(child.path) for path in visible.ordered_paths], dtype=bool)
    if child.level in LEAF_LEVELS or mine.sum() < 2:
        # The other shown stores pooled: all shown stores less the child's own shown ones.
        rest = dict(visible.totals)
        for uid, path in visible.paths.items():
            if uid in visible.details and path.startswith(child.path):
                for name in rest:
                    rest[name] -= float(visible.details[uid].get(name) or 0)
        first = _result(metric, rest)
        own = result_from_details(metric.aggregation, row.details or {})
        if first is None or own is None:
            return None
        return scoring.compare(first, own)
    if mine.all():
        return None
    zero = np.zeros_like(visible.n)
    return clustered_change(
        np.where(mine, zero, visible.n),
        np.where(mine, zero, visible.coded),
        np.where(mine, visible.n, zero),
        np.where(mine, visible.coded, zero),
        scale=_TOTAL[metric.aggregation][2],
    )


def _result(metric: Metric, summed: dict[str, float]) -> Any | None:
    """The scoring result of pooled counts (whole numbers where the aggregation counts)."""
    names = STATISTICS.get(metric.aggregation, ())
    whole = {names[0]} if names else set()
    if metric.aggregation in (A.NPS, A.TOP_BOX, A.RATE):
        whole |= set(names)
    counts = {name: round(value) if name in whole else value for name, value in summed.items()}
    return result_from_details(metric.aggregation, counts)
