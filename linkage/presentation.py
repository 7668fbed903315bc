"""How leaders read numbers on the pages: values in the metric's own format (NPS +23, CSAT
85.0 %, CES 5.82/7, revenue $1,200), intervals, tested changes, flags, the data of trend
charts (drawn by static/js/workspace.js with the vendored Chart.js), expectations, the
initiative funnel and a link's evidence. Selectors return data; this module (and the template
filters in `templatetags.leadership`) turns it into text and chart data."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Any, Protocol

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

from surveys import periods
from surveys.models import Metric

from .leadership_selectors import FunnelSummary, MetricReading
from .models import ChainLink, Initiative, PerformanceExpectation

PERCENT_AGGREGATIONS = (Metric.Aggregation.TOP_BOX, Metric.Aggregation.RATE)
# Plausibility flags (surveys.scoring) as a leader reads them next to a value.
FLAG_TEXT = {
    "low_n": "few answers (under 30): read with care",
    "too_good_to_be_true": "too good to be true? Check the listening channel",
    "straight_lining": "more identical answers across a grid than chance would give",
    "no_interval": "no interval: too few answers, or all answers alike",
}


def _signed(value: float, decimals: int, *, plus: bool) -> str:
    """A number rounded to `decimals`, never "−0": a value that rounds to zero prints as 0."""
    rounded = round(value, decimals)
    if rounded == 0:
        return f"{0:.{decimals}f}"
    return f"{rounded:+.{decimals}f}" if plus else f"{rounded:.{decimals}f}"


# ------------------------------------------------------------------ numbers


def currency() -> str:
    """The money symbol (settings.CURRENCY_SYMBOL, default "$")."""
    return getattr(settings, "CURRENCY_SYMBOL", "$")


def format_value(metric: Metric, value: float | None) -> str:
    """A metric value as leaders read it: NPS +23, CSAT 85.0 %, CES 5.82/7, revenue $1,200."""
    if value is None:
        return "—"
    if metric.aggregation == Metric.Aggregation.NPS:
        return _signed(value, 0, plus=True)
    if metric.aggregation in PERCENT_AGGREGATIONS or metric.unit_label == "%":
        return f"{_signed(value, 1, plus=False)} %"
    if metric.unit_label == "$":
        sign = "-" if round(value) < 0 else ""
        return f"{sign}{currency()}{abs(value):,.0f}"
    suffix = metric.unit_label if metric.unit_label.startswith("/") else f" {metric.unit_label}"
    return f"{_signed(value, 2, plus=False)}{suffix.rstrip()}"


def format_change(metric: Metric, change: float) -> str:
    """A difference: points for NPS and shares (percentage points), metric units otherwise."""
    if metric.aggregation == Metric.Aggregation.NPS:
        return f"{_signed(change, 0, plus=True)} pts"
    if metric.aggregation in PERCENT_AGGREGATIONS or metric.unit_label == "%":
        return f"{_signed(change, 1, plus=True)} pts"
    if metric.unit_label == "$":
        if round(change) == 0:
            return f"{currency()}0"
        return f"{'+' if change > 0 else '−'}{currency()}{abs(change):,.0f}"
    return _signed(change, 2, plus=True)


def format_money(amount: Decimal) -> str:
    """$2.0M, $750K, $900 in the configured currency symbol."""
    symbol = currency()
    value = float(amount)
    if abs(value) >= 1_000_000:
        return f"{symbol}{value / 1_000_000:.1f}M"
    if abs(value) >= 1_000:
        return f"{symbol}{value / 1_000:.0f}K"
    return f"{symbol}{value:,.0f}"


# ------------------------------------------------------------------ readings


def hidden_text(reading: MetricReading) -> str:
    return f"hidden (fewer than {reading.threshold} responses)"


def value_text(reading: MetricReading) -> str:
    return hidden_text(reading) if reading.hidden else format_value(reading.metric, reading.value)


def ci_text(reading: MetricReading) -> str:
    if reading.hidden or reading.ci_low is None or reading.ci_high is None:
        return ""
    low, high = (format_value(reading.metric, bound) for bound in (reading.ci_low, reading.ci_high))
    return f"95 % CI {low} to {high}"


def p_text(p_value: float) -> str:
    """p to three decimals; "p < 0.001" below that (p = 0.050 prints as such, not 0.05)."""
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"


def test_phrase(method: str) -> str:
    """The test named in words a leader reads, from a Comparison's `method`."""
    lowered = method.lower()
    for needle, words in (
        ("difference in differences", "a difference-in-differences test against untreated units"),
        ("cluster-robust", "a test that treats stores, not customers, as the sample"),
        ("paired", "a paired test on the same units"),
        ("fisher", "an exact test"),
        ("permutation", "an exact test"),
        ("welch", "Welch's t test"),
        ("z", "a z test"),
    ):
        if needle in lowered:
            return words
    return "a significance test"


def chance_text(comparison: Any) -> str:
    """How sure: "unlikely to be chance (p = 0.003)" or "this could be chance (p = 0.210)"."""
    if comparison is None or comparison.p_value is None:
        return "not testable: no variation in the answers"
    if comparison.significant:
        return f"unlikely to be chance ({p_text(comparison.p_value)})"
    return f"this could be chance ({p_text(comparison.p_value)})"


def _moved(metric: Metric, before: float, after: float) -> str:
    if format_value(metric, before) == format_value(metric, after):
        return f"held at {format_value(metric, after)}"
    verb = "rose" if after > before else "fell"
    return f"{verb} from {format_value(metric, before)} to {format_value(metric, after)}"


def level_text(level: str, clusters: int) -> str:
    if level.startswith("stores"):
        return f"with {clusters} stores"
    return "from one unit's respondents"


def change_text(reading: MetricReading) -> str:
    """Change vs the previous period, with the significance test where counts allow one."""
    if reading.change is None:
        return "no previous period to compare"
    shifted = periods.shift(reading.period, -1)
    text = f"{format_change(reading.metric, reading.change)} vs {shifted}"
    comparison = reading.comparison
    if comparison is None:
        return text + " (no counts to test)"
    if comparison.p_value is None:  # e.g. 0 % complaints in both periods
        return text + " (not testable: no variation in the answers)"
    verdict = "significant" if comparison.significant else "not significant"
    return text + f" ({verdict}, {p_text(comparison.p_value)})"


def change_sentence(reading: MetricReading) -> str:
    """One sentence: what was compared, by which test, at what level, how sure.

    e.g. "Delivery complaints fell from 9.9 % to 7.9 % (2026-01 to 2026-02); with 14
    stores, by a test that treats stores, not customers, as the sample, this could be
    chance (p = 0.210)."
    """
    if reading.change is None or reading.value is None or reading.hidden:
        return ""
    before = reading.value - reading.change
    compared = (
        f"{reading.metric.name} {_moved(reading.metric, before, reading.value)} "
        f"({periods.shift(reading.period, -1)} to {reading.period})"
    )
    comparison = reading.comparison
    if comparison is None:
        return f"{compared}; there are no counts to test the change."
    if comparison.p_value is None:
        return f"{compared}; not testable: no variation in the answers."
    how = f"{level_text(reading.test_level, reading.clusters)}, by {test_phrase(comparison.method)}"
    return f"{compared}; {how}, {chance_text(comparison)}."


def flag_texts(reading: MetricReading) -> list[str]:
    return [FLAG_TEXT.get(flag, flag.replace("_", " ")) for flag in reading.flags]


# ------------------------------------------------------------------ trend charts


class TrendPoint(Protocol):
    """A period of a trend as the charts read it (leadership `Point`, workspace `Cell`)."""

    @property
    def period(self) -> str: ...
    @property
    def value(self) -> float | None: ...
    @property
    def ci_low(self) -> float | None: ...
    @property
    def ci_high(self) -> float | None: ...
    @property
    def n(self) -> int | None: ...
    @property
    def hidden(self) -> bool: ...


NOT_ENOUGH = "not enough responses"


def value_kind(metric: Metric) -> str:
    """How the chart script (static/js/workspace.js) formats the metric's numbers."""
    if metric.aggregation == Metric.Aggregation.NPS:
        return "nps"
    if metric.aggregation in PERCENT_AGGREGATIONS or metric.unit_label == "%":
        return "percent"
    if metric.unit_label == "$":
        return "money"
    return "number"


def axis_title(metric: Metric) -> str:
    """The value axis: the metric's name with its unit, e.g. "Customer NPS (−100 to +100)"."""
    kind = value_kind(metric)
    suffix = {"nps": " (−100 to +100)", "percent": " (%)", "money": f" ({currency()})"}.get(kind)
    if kind == "number" and metric.unit_label:
        suffix = f" ({metric.unit_label.lstrip('/')})"
    return f"{metric.name}{suffix or ''}"


def _from_first_reading(points: Sequence[TrendPoint]) -> Sequence[TrendPoint]:
    """The trend from its first month with a value or a hidden cell: months before a
    measure's first reading are not drawn as empty axis (hidden months stay, as gaps)."""
    for index, point in enumerate(points):
        if point.hidden or point.value is not None:
            return points[index:]
    return points


def trend_chart(
    metric: Metric,
    points: Sequence[TrendPoint],
    chart_id: str,
    *,
    target: float | None = None,
    agreed: str | None = None,
) -> dict[str, Any]:
    """What the chart script draws: values by month, the interval band, n, the target and
    the month the barometer was agreed (marked only when the chart shows that month).
    Hidden months are gaps: no value, interval or n."""
    points = _from_first_reading(points)
    shown = [not point.hidden and point.value is not None for point in points]
    return {
        "id": chart_id,
        "dataId": f"{chart_id}-data",
        "title": metric.name,
        "kind": value_kind(metric),
        "yTitle": axis_title(metric),
        "xTitle": "Month",
        "labels": [point.period for point in points],
        "values": [p.value if ok else None for p, ok in zip(points, shown, strict=True)],
        "low": [p.ci_low if ok else None for p, ok in zip(points, shown, strict=True)],
        "high": [p.ci_high if ok else None for p, ok in zip(points, shown, strict=True)],
        "n": [p.n if ok else None for p, ok in zip(points, shown, strict=True)],
        "hidden": [point.hidden for point in points],
        "target": target,
        "agreed": agreed if agreed in {point.period for point in points} else None,
        "hasValues": any(shown),
    }


def _interval_text(metric: Metric, point: TrendPoint) -> str:
    if point.ci_low is None or point.ci_high is None:
        return ""
    return f"{format_value(metric, point.ci_low)} to {format_value(metric, point.ci_high)}"


def trend_rows(metric: Metric, points: Sequence[TrendPoint]) -> list[dict[str, Any]]:
    """The table fallback of a trend chart: one row per month the chart draws."""
    return [
        {"period": point.period, "hidden": True, "value": NOT_ENOUGH}
        if point.hidden
        else {"period": point.period, "empty": True, "value": "no data"}
        if point.value is None
        else {
            "period": point.period,
            "value": format_value(metric, point.value),
            "interval": _interval_text(metric, point),
            "n": point.n,
        }
        for point in _from_first_reading(points)
    ]


def latest_target(metric: Metric, expectations: Iterable[PerformanceExpectation]) -> float | None:
    """The target a chart draws: of the unit's expectations for `metric`, the one ending
    last (as the workspace's unit page picks it)."""
    targets = [
        expectation
        for expectation in expectations
        if expectation.metric_id == metric.pk and expectation.target_value is not None
    ]
    if not targets:
        return None
    return max(targets, key=lambda expectation: expectation.end_date).target_value


def reading_chart(
    reading: MetricReading,
    chart_id: str,
    *,
    target: float | None = None,
    agreed: str | None = None,
    compact: bool = False,
) -> dict[str, Any]:
    """A reading's trend as the `workspace/_trend.html` partial draws it (chart and table);
    a compact chart (a table cell) leaves its legend to the caption."""
    metric = reading.metric
    chart = trend_chart(metric, reading.history, chart_id, target=target, agreed=agreed)
    return {
        "chart": {**chart, "compact": compact},
        "rows": trend_rows(metric, reading.history),
        "target": format_value(metric, target) if target is not None else "",
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
            {
                "period": point.period,
                "value": point.value,
                "hidden": point.hidden,
                "ci_low": point.ci_low,
                "ci_high": point.ci_high,
                "n": point.n,
            }
            for point in reading.history
        ],
    }


def unit_options(units: Iterable[tuple[str, str]], *, selected: str) -> SafeString:
    """`<option>`s of a unit picker ("Name (code)", the code as value), escaped. Joined
    as plain strings: a leader's picker lists every store, and per-option formatting
    helpers cost several milliseconds per thousand."""
    options = []
    for code, name in units:
        value = escape(code)
        mark = " selected" if code == selected else ""
        options.append(f'<option value="{value}"{mark}>{escape(name)} ({value})</option>')
    return mark_safe("".join(options))  # every part escaped above


# ------------------------------------------------------------------ expectations, funnel, links


def baseline_text(expectation: PerformanceExpectation) -> str:
    value = format_value(expectation.metric, expectation.baseline_value)
    return f"{value} ({expectation.baseline_period})"


def target_text(expectation: PerformanceExpectation) -> str:
    return format_value(expectation.metric, expectation.target_value)


def latest_text(expectation: PerformanceExpectation) -> str:
    """The latest reading with its period, interval and n, or "—" before the first."""
    metric = expectation.metric
    if expectation.latest_value is None:
        return "—"
    details = [expectation.latest_period]
    if expectation.latest_ci_low is not None and expectation.latest_ci_high is not None:
        low = format_value(metric, expectation.latest_ci_low)
        high = format_value(metric, expectation.latest_ci_high)
        details.append(f"95 % CI {low} to {high}")
    if expectation.latest_n:
        details.append(f"n = {expectation.latest_n}")
    return f"{format_value(metric, expectation.latest_value)} ({', '.join(details)})"


def expectation_sentence(expectation: PerformanceExpectation) -> str:
    """One sentence on what an expectation's status rests on (its stored evidence)."""
    evidence = expectation.evidence or {}
    measured = evidence.get("periods") or []
    metric = expectation.metric
    if not measured or expectation.baseline_value is None:
        return "Not judged yet: no complete period of the time frame has a visible value."
    latest = measured[-1]
    compared = (
        f"{metric.name} {_moved(metric, expectation.baseline_value, latest['value'])} "
        f"({expectation.baseline_period} to {latest['period']}) against a target of "
        f"{target_text(expectation)}"
    )
    how = level_text(latest.get("level", ""), latest.get("clusters", 0))
    method = test_phrase(latest.get("method", ""))
    chance = chance_text(_Tested(latest.get("p_value"), bool(latest.get("significant"))))
    why = STATUS_REASONS.get(expectation.status, "")
    return f"{compared}; {how}, by {method}, {chance}. {why}".strip()


@dataclass(frozen=True)
class _Tested:
    p_value: float | None
    significant: bool


STATUS_REASONS = {
    "achieved": "Achieved: the change reached the target, significantly, in each of the last "
    "two measured periods.",
    "on_track": "On track: the plan is still inside what the data allow; one good month is "
    "not enough to call it achieved.",
    "at_risk": "At risk: even the favourable end of the interval is behind the plan.",
    "missed": "Missed: the time frame ended without the target reached and sustained.",
    "pending": "",
}


def initiative_sentences(initiative: Initiative) -> list[str]:
    """One sentence per tested metric and one for the verdict, from `verification`."""
    verification = initiative.verification or {}
    items = verification.get("metrics") or []
    if not items:
        return []
    sentences = []
    count = len(items)
    for item in items:
        metric = Metric(
            key=item["metric"],
            name=item.get("name", item["metric"]),
            aggregation=_aggregation_of(item),
            unit_label=item.get("unit_label", ""),
        )
        before, after = item["before"]["value"], item["after"]["value"]
        level = item.get("level", "")
        if "difference in differences" in level:
            how = f"compared with the stores without it ({item.get('clusters', 0)} stores in all)"
        else:
            how = level_text(level, item.get("clusters", 0))
        adjusted = f", adjusted for testing {count} metrics" if count > 1 else ""
        chance = chance_text(_Tested(item.get("p_value"), bool(item.get("significant"))))
        sentences.append(
            f"{metric.name} {_moved(metric, before, after)} "
            f"({verification.get('before_period')} to {verification.get('after_period')}); "
            f"{how}, by {test_phrase(item.get('method', ''))}{adjusted}, {chance}."
        )
    if verification.get("supported"):
        money = format_money(initiative.verified_impact or Decimal(0))
        sentences.append(f"Verified: {money} counts as retained.")
    else:
        sentences.append(
            "No evidence of impact yet: the claim counts as $0 retained until a test shows "
            "the change.".replace("$", currency())
        )
    return sentences


def _aggregation_of(item: dict[str, Any]) -> str:
    return item.get("aggregation", Metric.Aggregation.MEAN)


DRIVER_REASONS = {
    "model_not_significant": "the drivers together explain no more than chance would",
    "few_units_per_driver": "there are fewer than 10 units per driver",
    "no_model": "the model could not be fitted (constant, collinear or too few values)",
}


def drivers_sentence(drivers: dict[str, Any]) -> str:
    """What the key-driver model compared, by which test, and whether there is anything to rank."""
    n, f_p = drivers.get("n") or 0, drivers.get("f_p")
    count = len(drivers.get("drivers") or [])
    design = (
        "between units (each unit's mean of a driver against its mean of the outcome "
        f"{drivers.get('lag', 1)} period later)"
    )
    fit = "the model could not be tested"
    if f_p is not None:
        adjusted = drivers.get("adjusted_r_squared")
        fit = (
            f"R² = {drivers.get('r_squared') or 0:.2f}, adjusted R² = {adjusted or 0:.2f}, "
            f"F test {p_text(f_p)}, {drivers.get('units_per_driver') or 0:.1f} units per driver"
        )
    text = f"{count} drivers across {n} units, {design}: {fit}."
    if drivers.get("reliable"):
        return text + " The weights below carry their sign and 95 % bootstrap limits."
    reasons = [DRIVER_REASONS.get(code, code) for code in drivers.get("reasons", [])]
    return text + f" No reliable drivers: {'; '.join(reasons)}."


def segment_text(expectation: PerformanceExpectation) -> str:
    return ", ".join(f"{key} = {value}" for key, value in expectation.segment_filter.items())


def funnel_text(summary: FunnelSummary) -> str:
    """e.g. "75 ideas → 20 prioritised → 5 shipped → $2.0M retained"."""
    money = f"{format_money(summary.retained)} retained"
    if summary.claimed:
        money += f" ({format_money(summary.claimed)} of it claimed, not yet verified)"
    return (
        f"{summary.ideas} idea{'s' if summary.ideas != 1 else ''} → "
        f"{summary.prioritised} prioritised → {summary.shipped} shipped → {money}"
    )


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
