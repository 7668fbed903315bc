"""Numbers of the workspace pages as people read them, and chart data for the static script.

Formatting follows `linkage.presentation` (NPS +23, CSAT 85.0 %, revenue $1,200) so a value
reads the same on every page. Hidden cells carry no value, interval or count anywhere here.
"""

from typing import Any

from linkage.presentation import (
    FLAG_TEXT,
    NOT_ENOUGH,
    format_change,
    format_value,
)
from linkage.presentation import trend_chart as leader_trend_chart
from linkage.presentation import trend_rows as leader_trend_rows
from surveys.models import Metric

from .comparison import Cell, Trend

HEAT_CLASSES = 5


def cell_view(metric: Metric, cell: Cell | None) -> dict[str, Any]:
    """Text of one table cell: value, interval, n, flags and the test against the parent."""
    if cell is None:
        return {"empty": True, "value": "—", "sort": ""}
    if cell.hidden:
        return {"hidden": True, "value": NOT_ENOUGH, "sort": ""}
    interval = ""
    if cell.ci_low is not None and cell.ci_high is not None:
        interval = f"{format_value(metric, cell.ci_low)} to {format_value(metric, cell.ci_high)}"
    view: dict[str, Any] = {
        "value": format_value(metric, cell.value),
        "sort": "" if cell.value is None else f"{cell.value:.6f}",
        "interval": interval,
        "n": cell.n,
        "flags": [FLAG_TEXT.get(flag, flag.replace("_", " ")) for flag in cell.flags],
    }
    test = cell.versus_parent
    if cell.difference is not None:
        view["difference"] = format_change(metric, cell.difference)
    if test is not None and test.p_value is not None:
        better = (cell.difference or 0) > 0
        if not metric.higher_is_better:
            better = not better
        view["significant"] = test.significant
        view["verdict"] = (
            ("above" if (cell.difference or 0) > 0 else "below") if test.significant else "same"
        )
        view["better"] = better if test.significant else None
        view["p"] = f"{test.p_value:.3f}"
    return view


def heat_class(metric: Metric, value: float | None, low: float, high: float) -> str:
    """heat-0 (worst) … heat-4 (best) across the values shown in one heat map."""
    if value is None:
        return "heat-none"
    share = 0.5 if high == low else (value - low) / (high - low)
    if not metric.higher_is_better:
        share = 1.0 - share
    return f"heat-{min(int(share * HEAT_CLASSES), HEAT_CLASSES - 1)}"


def trend_chart(trend: Trend, chart_id: str) -> dict[str, Any]:
    """What the chart script draws (`linkage.presentation.trend_chart`, shared with the
    leader dashboard and scorecard)."""
    return leader_trend_chart(
        trend.metric, trend.points, chart_id, target=trend.target, agreed=trend.agreed_period
    )


def trend_rows(trend: Trend) -> list[dict[str, Any]]:
    """The table fallback of a chart: one row per period."""
    return leader_trend_rows(trend.metric, trend.points)


def change_text(metric: Metric, change: float) -> str:
    return format_change(metric, change)
