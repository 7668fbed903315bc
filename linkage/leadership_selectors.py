"""Read models of the leader pages: metric readings with trend, the scorecard, the barometer
headline with its diagnostics, and the initiative funnel.

Metric values are read through `surveys.selectors.metric_values`, the one place suppression
and unit scope are applied, for the reader the view passes in.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
from django.db.models import Case, Count, Q, QuerySet, Sum, Value, When
from django.db.models.fields.json import KT
from django.utils import timezone

from surveys import periods
from surveys.aggregation import (
    ClusterSums,
    MetricFeed,
    metric_feeds,
    pairable,
    respondent_overlap_sums,
)
from surveys.models import Metric, MetricValue, OrgUnit
from surveys.scoring.paired import OverlapSums
from surveys.selectors import metric_values
from surveys.visibility import Reader

from .comparisons import at_respondent_level, tested_change
from .models import Barometer, ChainLink, Initiative, LinkageRun, PerformanceExpectation

HISTORY = 12  # periods in a trend
LEVELS = [Metric.Level.STRATEGIC, Metric.Level.TACTICAL, Metric.Level.OPERATIONAL]
PERSPECTIVES = list(Metric.Perspective)


@dataclass(frozen=True)
class Point:
    """One period of a trend; a hidden (suppressed) period carries no value, interval or n."""

    period: str
    value: float | None
    hidden: bool = False
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None


def _point(label: str, row: MetricValue | None) -> Point:
    if row is None:
        return Point(label, None)
    if row.suppressed:
        return Point(label, None, hidden=True)
    return Point(label, row.value, False, row.ci_low, row.ci_high, row.n)


@dataclass(frozen=True)
class MetricReading:
    """A metric for one unit: latest period ± CI, last periods, change vs the period before."""

    metric: Metric
    period: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    hidden: bool
    threshold: int
    history: list[Point]
    comparison: Any | None = None  # scoring.Comparison, when both periods have counts
    change: float | None = None
    flags: tuple[str, ...] = ()  # plausibility flags of the latest visible cell
    test_level: str = ""  # what the change test treats as independent: "stores", "respondents"
    clusters: int = 0  # stores in a clustered test
    paired: int = 0  # repeat respondents analysed paired in a respondent-level test

    @property
    def improved(self) -> bool | None:
        """True/False for a significant move in the good/bad direction, else None."""
        if self.comparison is None or not self.comparison.significant or not self.change:
            return None
        return (self.change > 0) == self.metric.higher_is_better

    @property
    def in_progress(self) -> bool:
        """The latest period has not ended yet: its value may still move."""
        return periods.end_date(self.period) > timezone.localdate()


def _coded_total(metric: Metric, details: dict[str, Any]) -> float:
    if metric.aggregation == Metric.Aggregation.NPS:
        return float(details["promoters"]) - float(details["detractors"])
    return float(details["k"] if "k" in details else details["sum"])


_STORE_COUNT_KEYS = ("answers", "promoters", "detractors", "k", "sum")  # `_store_sums` reads


class _StoreCell(NamedTuple):
    """A store's cell as the change test reads it; a suppressed cell has no details."""

    suppressed: bool
    details: dict[str, Any]


def _store_sums(
    metric: Metric, stores: dict[int, dict[str, _StoreCell]], before: str, after: str
) -> ClusterSums | None:
    """The descendant stores' counts in two periods, for the clustered change test; None
    when a store cell is hidden in either (its counts are not stored) or none has counts."""
    unit_ids = sorted(stores)
    n = np.zeros((2, len(unit_ids)))
    total = np.zeros_like(n)
    for column, unit_id in enumerate(unit_ids):
        for row, period in enumerate((before, after)):
            cell = stores[unit_id].get(period)
            if cell is None:
                continue
            if cell.suppressed or "answers" not in (cell.details or {}):
                return None
            n[row, column] = float(cell.details["answers"])
            total[row, column] = _coded_total(metric, cell.details)
    return ClusterSums(unit_ids=np.array(unit_ids), n=n, total=total)


def _reading(
    metric: Metric,
    rows: dict[str, MetricValue],
    threshold: int,
    stores: dict[int, dict[str, _StoreCell]] | None = None,
    overlap: OverlapSums | None = None,
) -> MetricReading:
    latest = max(rows, key=periods.index_of)
    labels = [periods.shift(latest, step) for step in range(1 - HISTORY, 1)]
    history = [_point(label, rows.get(label)) for label in labels]
    current, previous = rows[latest], rows.get(periods.shift(latest, -1))
    comparison = change = tested = None
    if previous is not None and current.value is not None and previous.value is not None:
        change = current.value - previous.value
        sums = _store_sums(metric, stores, previous.period, latest) if stores else None
        details = previous.details or {}, current.details or {}
        tested = tested_change(metric, *details, sums, overlap)
        comparison = tested.comparison if tested else None
    return MetricReading(
        metric=metric,
        period=latest,
        value=current.value,
        ci_low=current.ci_low,
        ci_high=current.ci_high,
        n=current.n,
        hidden=current.suppressed,
        threshold=threshold,
        history=history,
        comparison=comparison,
        change=change,
        flags=() if current.suppressed else tuple((current.details or {}).get("flags", [])),
        test_level=tested.level if tested else "",
        clusters=tested.clusters if tested else 0,
        paired=tested.paired if tested else 0,
    )


def readings_for_unit(
    unit: OrgUnit, *, reader: Reader, metrics: QuerySet[Metric] | None = None
) -> dict[int, MetricReading]:
    """Readings of every metric with values for `unit` itself (optionally only `metrics`),
    as `reader` may see them (nothing for a unit outside their scope)."""
    rows = metric_values(reader=reader, unit=unit, subtree=False)
    # Only periods inside the accepted window: a value stored for 9999-12 (before imports
    # checked the window) has no following period and must not break the unit's pages.
    rows = rows.filter(period__gte=periods.WINDOW_FIRST, period__lte=periods.WINDOW_LAST)
    if metrics is not None:
        rows = rows.filter(metric__in=metrics)  # a queryset stays a subquery
    by_metric: dict[int, dict[str, MetricValue]] = defaultdict(dict)
    metric_of: dict[int, Metric] = {}
    for row in rows:
        by_metric[row.metric_id][row.period] = row
        metric_of[row.metric_id] = row.metric
    feeds = metric_feeds([metric.key for metric in metric_of.values()])
    thresholds = {feed.metric.key: feed.threshold for feed in feeds}
    stores = _descendant_store_cells(unit, reader, by_metric)
    overlaps = _repeat_respondents(unit, metric_of, by_metric, stores, feeds)
    return {
        metric_id: _reading(
            metric_of[metric_id],
            cells,
            thresholds.get(metric_of[metric_id].key, 0),
            stores.get(metric_id),
            overlaps.get(metric_id),
        )
        for metric_id, cells in by_metric.items()
    }


def _changed_periods(cells: dict[str, MetricValue]) -> tuple[str, str] | None:
    """The previous and latest period of a metric's cells when both have a value."""
    latest = max(cells, key=periods.index_of)
    previous = cells.get(periods.shift(latest, -1))
    if previous is None or previous.value is None or cells[latest].value is None:
        return None
    return previous.period, latest


def _repeat_respondents(
    unit: OrgUnit,
    metric_of: dict[int, Metric],
    by_metric: dict[int, dict[str, MetricValue]],
    stores: dict[int, dict[int, dict[str, _StoreCell]]],
    feeds: list[MetricFeed],
) -> dict[int, OverlapSums]:
    """Respondents in both compared periods, for every pairable survey metric whose change
    is tested on respondents: one query per pair of periods (usually one), not per metric,
    and none when no metric qualifies."""
    can_pair = {feed.metric.key for feed in feeds if pairable(feed)}
    wanted: dict[tuple[str, str], list[Metric]] = defaultdict(list)
    for metric_id, cells in by_metric.items():
        metric, pair = metric_of[metric_id], _changed_periods(cells)
        if pair is None or metric.key not in can_pair:
            continue
        store_cells = stores.get(metric_id)
        sums = _store_sums(metric, store_cells, *pair) if store_cells else None
        if at_respondent_level(sums):
            wanted[pair].append(metric)
    found: dict[int, OverlapSums] = {}
    for pair, metrics in wanted.items():
        overlaps = respondent_overlap_sums(metrics=metrics, unit=unit, periods=pair, feeds=feeds)
        found.update({m.pk: overlaps[m.key] for m in metrics if m.key in overlaps})
    return found


def _descendant_store_cells(
    unit: OrgUnit, reader: Reader, by_metric: dict[int, dict[str, MetricValue]]
) -> dict[int, dict[int, dict[str, _StoreCell]]]:
    """Store cells below `unit` in each metric's latest two periods (one query): the
    clusters of a parent's change test. Empty for a store. Read as masked plain values, not
    model rows: a company has thousands of them per page."""
    if unit.level == OrgUnit.Level.STORE or not by_metric:
        return {}
    wanted = set()
    for cells in by_metric.values():
        latest = max(cells, key=periods.index_of)
        wanted.update({latest, periods.shift(latest, -1)})
    rows = metric_values(reader=reader, unit=unit, subtree=True).filter(
        unit__level=OrgUnit.Level.STORE, period__in=sorted(wanted), metric_id__in=list(by_metric)
    )
    # Only the counts the change test reads, extracted in SQL (parsing thousands of whole
    # details documents was most of a company page); NULL on a suppressed cell.
    keys = {
        f"count_{key}": Case(When(suppressed=True, then=Value(None)), default=KT(f"details__{key}"))
        for key in _STORE_COUNT_KEYS
    }
    masked = rows.exclude(unit=unit).annotate(**keys)
    stores: dict[int, dict[int, dict[str, _StoreCell]]] = defaultdict(lambda: defaultdict(dict))
    for metric_id, unit_id, period, suppressed, *counts in masked.values_list(
        "metric_id", "unit_id", "period", "suppressed", *keys
    ):
        details = {
            key: float(count)
            for key, count in zip(_STORE_COUNT_KEYS, counts, strict=True)
            if count is not None
        }
        stores[metric_id][unit_id][period] = _StoreCell(suppressed, details)
    return stores


# ------------------------------------------------------------------ scorecard


@dataclass(frozen=True)
class ScorecardRow:
    reading: MetricReading
    targets: list[PerformanceExpectation]
    drivers: list[ChainLink]
    role: str = ""  # "barometer", "diagnostic" (another overall measure) or ""
    agreed_period: str | None = None  # the barometer's row: the month it was agreed


def measure_role(metric: Metric, barometer_metric_id: int | None) -> str:
    """The agreed barometer is the one headline; other overall (tactical) measures such as
    NPS, CSAT and CES are diagnostics, as on the dashboard."""
    if metric.pk == barometer_metric_id:
        return "barometer"
    return "diagnostic" if metric.level == Metric.Level.TACTICAL else ""


@dataclass(frozen=True)
class ScorecardSection:
    level: str
    label: str
    groups: list[tuple[str, list[ScorecardRow]]] = field(default_factory=list)


def scorecard(unit: OrgUnit, *, reader: Reader) -> list[ScorecardSection]:
    """Metrics of `unit` by results-chain level (strategic first), then by perspective."""
    readings = readings_for_unit(unit, reader=reader)
    barometer_metric_id, agreed = None, None
    in_force = Barometer.objects.filter(in_force=True).values_list("metric_id", "started_at")
    if (found := in_force.first()) is not None:
        barometer_metric_id, agreed = found[0], periods.label_for(found[1], periods.MONTH)
    targets: dict[int, list[PerformanceExpectation]] = defaultdict(list)
    for expectation in PerformanceExpectation.objects.filter(unit=unit).select_related("metric"):
        targets[expectation.metric_id].append(expectation)
    drivers: dict[int, list[ChainLink]] = defaultdict(list)
    links = ChainLink.objects.select_related("from_metric", "to_metric", "latest_result")
    for link in links.filter(to_metric__in=list(readings)):
        drivers[link.to_metric_id].append(link)
    sections = []
    for level in LEVELS:
        groups = []
        for perspective in PERSPECTIVES:
            rows = [
                ScorecardRow(
                    reading,
                    targets[metric_id],
                    drivers[metric_id],
                    measure_role(reading.metric, barometer_metric_id),
                    agreed if metric_id == barometer_metric_id else None,
                )
                for metric_id, reading in readings.items()
                if reading.metric.level == level and reading.metric.perspective == perspective
            ]
            if rows:
                rows.sort(key=lambda row: (row.reading.metric.chain_stage, row.reading.metric.key))
                groups.append((perspective.label, rows))
        if groups:
            sections.append(ScorecardSection(level, Metric.Level(level).label, groups))
    return sections


# ------------------------------------------------------------------ expectations


# ------------------------------------------------------------------ dashboard


@dataclass(frozen=True)
class Dashboard:
    unit: OrgUnit
    barometer: Barometer | None
    headline: MetricReading | None
    diagnostics: list[MetricReading]
    children: list[OrgUnit]
    expectations: list[PerformanceExpectation]
    latest_run: LinkageRun | None
    funnel: "FunnelSummary"


def dashboard(unit: OrgUnit, *, reader: Reader) -> Dashboard:
    """The barometer in force as the headline for `unit`; other overall measures (the
    tactical-level outcomes such as NPS, CSAT, CES) as diagnostics below it."""
    barometer = Barometer.objects.select_related("metric").filter(in_force=True).first()
    overall = Metric.objects.filter(level=Metric.Level.TACTICAL)
    if barometer is not None:
        overall = Metric.objects.filter(Q(level=Metric.Level.TACTICAL) | Q(pk=barometer.metric_id))
    readings = readings_for_unit(unit, reader=reader, metrics=overall)
    headline = readings.pop(barometer.metric_id, None) if barometer else None
    diagnostics = sorted(readings.values(), key=lambda r: (r.metric.chain_stage, r.metric.key))
    expectations = PerformanceExpectation.objects.filter(unit__path__startswith=unit.path)
    return Dashboard(
        unit=unit,
        barometer=barometer,
        headline=headline,
        diagnostics=diagnostics,
        children=list(unit.children.order_by("name")),
        expectations=list(expectations.select_related("metric", "unit")),
        latest_run=LinkageRun.objects.filter(status=LinkageRun.Status.DONE).first(),
        funnel=funnel_summary(),
    )


# ------------------------------------------------------------------ initiative funnel


@dataclass(frozen=True)
class FunnelSummary:
    """Counts of initiatives that reached each stage, and money retained by measured ones."""

    ideas: int
    prioritised: int
    shipped: int
    measured: int
    verified: Decimal
    claimed: Decimal  # measured initiatives not verified yet count with their claim

    @property
    def retained(self) -> Decimal:
        return self.verified + self.claimed


def funnel_summary() -> FunnelSummary:
    """The initiative funnel in one query; every initiative entered it as an idea."""
    stage = Initiative.Stage
    measured = Q(stage=stage.MEASURED)
    totals = Initiative.objects.aggregate(
        ideas=Count("id"),
        prioritised=Count("id", filter=Q(stage__gte=stage.PRIORITISED)),
        shipped=Count("id", filter=Q(stage__gte=stage.SHIPPED)),
        measured=Count("id", filter=measured),
        verified=Sum("verified_impact", filter=measured & Q(verified_impact__isnull=False)),
        claimed=Sum("claimed_impact", filter=measured & Q(verified_impact__isnull=True)),
    )
    return FunnelSummary(
        ideas=totals["ideas"],
        prioritised=totals["prioritised"],
        shipped=totals["shipped"],
        measured=totals["measured"],
        verified=totals["verified"] or Decimal(0),
        claimed=totals["claimed"] or Decimal(0),
    )
