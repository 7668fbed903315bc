"""How leaders read metric values: NPS +23, CSAT 85.0 %, CES 5.82/7, revenue $1,200."""

from decimal import Decimal

from django.conf import settings

from surveys.models import Metric

PERCENT_AGGREGATIONS = (Metric.Aggregation.TOP_BOX, Metric.Aggregation.RATE)


def currency() -> str:
    """The money symbol (settings.CURRENCY_SYMBOL, default "$")."""
    return getattr(settings, "CURRENCY_SYMBOL", "$")


def format_value(metric: Metric, value: float | None) -> str:
    """A metric value as leaders read it: NPS +23, CSAT 85.0 %, CES 5.82/7, revenue $1,200."""
    if value is None:
        return "—"
    if metric.aggregation == Metric.Aggregation.NPS:
        return f"{value:+.0f}"
    if metric.aggregation in PERCENT_AGGREGATIONS or metric.unit_label == "%":
        return f"{value:.1f} %"
    if metric.unit_label == "$":
        return f"{currency()}{value:,.0f}"
    suffix = metric.unit_label if metric.unit_label.startswith("/") else f" {metric.unit_label}"
    return f"{value:.2f}{suffix.rstrip()}"


def format_change(metric: Metric, change: float) -> str:
    """A difference: points for NPS and shares (percentage points), metric units otherwise."""
    if metric.aggregation == Metric.Aggregation.NPS:
        return f"{change:+.0f} pts"
    if metric.aggregation in PERCENT_AGGREGATIONS or metric.unit_label == "%":
        return f"{change:+.1f} pts"
    if metric.unit_label == "$":
        return f"{'+' if change >= 0 else '−'}{currency()}{abs(change):,.0f}"
    return f"{change:+.2f}"


def format_money(amount: Decimal) -> str:
    """$2.0M, $750K, $900 in the configured currency symbol."""
    symbol = currency()
    value = float(amount)
    if abs(value) >= 1_000_000:
        return f"{symbol}{value / 1_000_000:.1f}M"
    if abs(value) >= 1_000:
        return f"{symbol}{value / 1_000:.0f}K"
    return f"{symbol}{value:,.0f}"
