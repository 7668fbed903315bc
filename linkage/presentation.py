"""How leaders read numbers on the pages: values in the metric's own format (NPS +23, CSAT
85.0 %, CES 5.82/7, revenue $1,200), intervals, tested changes, flags, sparkline geometry,
expectations, the initiative funnel and a link's evidence. Selectors return data; this module
(and the template filters in `templatetags.leadership`) turns it into text and geometry."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings

from surveys import periods
from surveys.models import Metric

from .leadership_selectors import FunnelSummary, MetricReading
from .models import ChainLink, Initiative, PerformanceExpectation

PERCENT_AGGREGATIONS = (Metric.Aggregation.TOP_BOX, Metric.Aggregation.RATE)
SPARK_WIDTH, SPARK_HEIGHT = 120, 28
# Plausibility flags (surveys.scoring) as a leader reads them next to a value.
FLAG_TEXT = {
    "low_n": "few answers (under 30): read with care",
    "too_good_to_be_true": "too good to be true? Check the listening channel",
    "straight_lining": "many identical answers across a grid",
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
        ("partially overlapping", "a t test that pairs each repeat respondent's two answers"),
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


def level_text(level: str, clusters: int, paired: int = 0) -> str:
    """At what level a change was tested: "with 14 stores", "from one unit's respondents,
    41 of whom answered both periods and were paired"."""
    if level.startswith("stores"):
        return f"with {clusters} stores"
    if paired:
        return (
            f"from one unit's respondents, {paired} of whom answered both periods and were paired"
        )
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
    level = level_text(reading.test_level, reading.clusters, reading.paired)
    how = f"{level}, by {test_phrase(comparison.method)}"
    return f"{compared}; {how}, {chance_text(comparison)}."


def flag_texts(reading: MetricReading) -> list[str]:
    return [FLAG_TEXT.get(flag, flag.replace("_", " ")) for flag in reading.flags]


def sparkline(reading: MetricReading) -> list[str]:
    """SVG polyline point lists; a hidden or missing period breaks the line."""
    values = [point.value for point in reading.history if point.value is not None]
    if not values:
        return []
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = SPARK_WIDTH / max(len(reading.history) - 1, 1)
    lines: list[list[str]] = [[]]
    for index, point in enumerate(reading.history):
        if point.value is None:
            lines.append([])
            continue
        y = SPARK_HEIGHT - 2 - (point.value - low) / span * (SPARK_HEIGHT - 4)
        lines[-1].append(f"{index * step:.1f},{y:.1f}")
    return [" ".join(line) for line in lines if line]


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
        "paired": reading.paired,
        "flags": list(reading.flags),
        "history": [
            {"period": point.period, "value": point.value, "hidden": point.hidden}
            for point in reading.history
        ],
    }


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
    how = level_text(latest.get("level", ""), latest.get("clusters", 0), latest.get("paired", 0))
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
            how = level_text(level, item.get("clusters", 0), item.get("paired", 0))
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
