"""Read models of the leader pages: metric readings with trend, the scorecard, the barometer
headline with its diagnostics, and the initiative funnel.

Metric values are read through `surveys.selectors.metric_values`, the one place suppression
and unit scope are applied, for the reader the view passes in.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from surveys import periods
from surveys.aggregation import metric_feeds
from surveys.models import Metric, MetricValue, OrgUnit
from surveys.selectors import metric_values
from surveys.visibility import Reader

from .comparisons import compare_details
from .formatting import format_change, format_money, format_value
from .models import Barometer, ChainLink, Initiative, LinkageRun, PerformanceExpectation

HISTORY = 12  # periods in a trend
LEVELS = [Metric.Level.STRATEGIC, Metric.Level.TACTICAL, Metric.Level.OPERATIONAL]
PERSPECTIVES = list(Metric.Perspective)
SPARK_WIDTH, SPARK_HEIGHT = 120, 28


@dataclass(frozen=True)
class Point:
    period: str
    value: float | None
    hidden: bool = False


# Plausibility flags (surveys.scoring) as a leader reads them next to a value.
FLAG_TEXT = {
    "low_n": "few answers (under 30): read with care",
    "too_good_to_be_true": "too good to be true? Check the listening channel",
    "straight_lining": "many identical answers across a grid",
}


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

    @property
    def flag_texts(self) -> list[str]:
        return [FLAG_TEXT.get(flag, flag.replace("_", " ")) for flag in self.flags]

    @property
    def value_text(self) -> str:
        return self.hidden_text if self.hidden else format_value(self.metric, self.value)

    @property
    def ci_text(self) -> str:
        if self.hidden or self.ci_low is None or self.ci_high is None:
            return ""
        low, high = (format_value(self.metric, bound) for bound in (self.ci_low, self.ci_high))
        return f"95 % CI {low} to {high}"

    @property
    def change_text(self) -> str:
        """Change vs the previous period, with the significance test where counts allow one."""
        if self.change is None:
            return "no previous period to compare"
        text = f"{format_change(self.metric, self.change)} vs {periods.shift(self.period, -1)}"
        if self.comparison is None:
            return text + " (no counts to test)"
        if self.comparison.p_value is None:  # e.g. 0 % complaints in both periods
            return text + " (not testable: no variation in the answers)"
        verdict = "significant" if self.comparison.significant else "not significant"
        return text + f" ({verdict}, p = {self.comparison.p_value:.3f})"

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

    @property
    def hidden_text(self) -> str:
        return f"hidden (fewer than {self.threshold} responses)"

    @property
    def sparkline(self) -> list[str]:
        """SVG polyline point lists; a hidden or missing period breaks the line."""
        values = [point.value for point in self.history if point.value is not None]
        if not values:
            return []
        low, high = min(values), max(values)
        span = (high - low) or 1.0
        step = SPARK_WIDTH / max(len(self.history) - 1, 1)
        lines: list[list[str]] = [[]]
        for index, point in enumerate(self.history):
            if point.value is None:
                lines.append([])
                continue
            y = SPARK_HEIGHT - 2 - (point.value - low) / span * (SPARK_HEIGHT - 4)
            lines[-1].append(f"{index * step:.1f},{y:.1f}")
        return [" ".join(line) for line in lines if line]


def _thresholds(keys: Iterable[str]) -> dict[str, int]:
    return {feed.metric.key: feed.threshold for feed in metric_feeds(list(keys))}


def _reading(metric: Metric, rows: dict[str, MetricValue], threshold: int) -> MetricReading:
    latest = max(rows, key=periods.index_of)
    labels = [periods.shift(latest, step) for step in range(1 - HISTORY, 1)]
    history = [
        Point(label, rows[label].value, rows[label].suppressed)
        if label in rows
        else Point(label, None)
        for label in labels
    ]
    current, previous = rows[latest], rows.get(periods.shift(latest, -1))
    comparison = change = None
    if previous is not None and current.value is not None and previous.value is not None:
        change = current.value - previous.value
        comparison = compare_details(metric, previous.details, current.details)
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
    )


def readings_for_unit(
    unit: OrgUnit, *, reader: Reader, metrics: QuerySet[Metric] | None = None
) -> dict[int, MetricReading]:
    """Readings of every metric with values for `unit` itself (optionally only `metrics`),
    as `reader` may see them (nothing for a unit outside their scope)."""
    rows = metric_values(reader=reader, unit=unit, subtree=False)
    if metrics is not None:
        rows = rows.filter(metric__in=metrics)  # a queryset stays a subquery
    by_metric: dict[int, dict[str, MetricValue]] = defaultdict(dict)
    metric_of: dict[int, Metric] = {}
    for row in rows:
        by_metric[row.metric_id][row.period] = row
        metric_of[row.metric_id] = row.metric
    thresholds = _thresholds(metric.key for metric in metric_of.values())
    return {
        metric_id: _reading(
            metric_of[metric_id], cells, thresholds.get(metric_of[metric_id].key, 0)
        )
        for metric_id, cells in by_metric.items()
    }


def reading_as_json(reading: MetricReading) -> dict[str, Any]:
    """A reading for chart code: hidden cells carry no value, interval or count."""
    comparison = reading.comparison
    return {
        "metric": reading.metric.key,
        "name": reading.metric.name,
        "level": reading.metric.level,
        "perspective": reading.metric.perspective,
        "higher_is_better": reading.metric.higher_is_better,
        "period": reading.period,
        "in_progress": reading.in_progress,
        "hidden": reading.hidden,
        "value": reading.value,
        "ci_low": reading.ci_low,
        "ci_high": reading.ci_high,
        "n": reading.n,
        "change": reading.change,
        "p_value": comparison.p_value if comparison else None,
        "significant": bool(comparison and comparison.significant),
        "flags": list(reading.flags),
        "history": [
            {"period": point.period, "value": point.value, "hidden": point.hidden}
            for point in reading.history
        ],
    }


# ------------------------------------------------------------------ scorecard


@dataclass(frozen=True)
class ScorecardRow:
    reading: MetricReading
    targets: list["ExpectationRow"]
    drivers: list[ChainLink]
    role: str = ""  # "barometer", "diagnostic" (another overall measure) or ""


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


def link_evidence(link: ChainLink) -> str:
    """ "supported, within-unit r = 0.41 (lag 1, 40 units)" — the verdict with the numbers
    it rests on."""
    text = link.get_verdict_display().lower()
    result = link.latest_result
    if result is not None:
        basis, r, _ = result.verdict_basis
        if r is not None:
            kind = "within-unit r" if basis == "within" else "r"
            text += f", {kind} = {r:.2f} (lag {result.lag}, {result.n_units} units)"
    return text


def scorecard(unit: OrgUnit, *, reader: Reader) -> list[ScorecardSection]:
    """Metrics of `unit` by results-chain level (strategic first), then by perspective."""
    readings = readings_for_unit(unit, reader=reader)
    barometer_metric_id = (
        Barometer.objects.filter(in_force=True).values_list("metric_id", flat=True).first()
    )
    targets: dict[int, list[ExpectationRow]] = defaultdict(list)
    for expectation in PerformanceExpectation.objects.filter(unit=unit).select_related("metric"):
        targets[expectation.metric_id].append(expectation_row(expectation))
    drivers: dict[int, list[ChainLink]] = defaultdict(list)
    links = ChainLink.objects.select_related("from_metric", "to_metric", "latest_result")
    for link in links.filter(to_metric__in=list(readings)):
        link.evidence = link_evidence(link)
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


@dataclass(frozen=True)
class ExpectationRow:
    """An expectation with its numbers written in the metric's own format."""

    expectation: PerformanceExpectation
    baseline_text: str
    target_text: str
    latest_text: str
    segment_text: str


def expectation_row(expectation: PerformanceExpectation) -> ExpectationRow:
    metric = expectation.metric
    latest = "—"
    if expectation.latest_value is not None:
        details = [expectation.latest_period]
        if expectation.latest_ci_low is not None and expectation.latest_ci_high is not None:
            low, high = (
                format_value(metric, bound)
                for bound in (expectation.latest_ci_low, expectation.latest_ci_high)
            )
            details.append(f"95 % CI {low} to {high}")
        if expectation.latest_n:
            details.append(f"n = {expectation.latest_n}")
        latest = f"{format_value(metric, expectation.latest_value)} ({', '.join(details)})"
    segment = ", ".join(f"{key} = {value}" for key, value in expectation.segment_filter.items())
    return ExpectationRow(
        expectation=expectation,
        baseline_text=(
            f"{format_value(metric, expectation.baseline_value)} ({expectation.baseline_period})"
        ),
        target_text=format_value(metric, expectation.target_value),
        latest_text=latest,
        segment_text=segment,
    )


# ------------------------------------------------------------------ dashboard


@dataclass(frozen=True)
class Dashboard:
    unit: OrgUnit
    barometer: Barometer | None
    headline: MetricReading | None
    diagnostics: list[MetricReading]
    children: list[OrgUnit]
    expectations: list[ExpectationRow]
    latest_run: LinkageRun | None
    funnel: "FunnelSummary"


def dashboard(unit: OrgUnit, *, reader: Reader, children: Iterable[OrgUnit]) -> Dashboard:
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
        children=list(children),
        expectations=[
            expectation_row(expectation)
            for expectation in expectations.select_related("metric", "unit")
        ],
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

    @property
    def text(self) -> str:
        """e.g. "75 ideas → 20 prioritised → 5 shipped → $2.0M retained"."""
        money = f"{format_money(self.retained)} retained"
        if self.claimed:
            money += f" ({format_money(self.claimed)} of it claimed, not yet verified)"
        return (
            f"{self.ideas} idea{'s' if self.ideas != 1 else ''} → "
            f"{self.prioritised} prioritised → {self.shipped} shipped → {money}"
        )


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
