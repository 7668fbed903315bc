"""Change tests between two cells or group values, from the counts kept in their details.

Adapter between stored sufficient statistics (`details` of a MetricValue or GroupValue, named
as in `surveys.aggregation.STATISTICS`) and the pure `surveys.scoring`
functions, so the scorecard and initiative verification test changes the same way.
"""

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from surveys import scoring
from surveys.aggregation import MIN_INTERVAL_N, STATISTICS
from surveys.models import Metric

A = Metric.Aggregation


def result_from_details(aggregation: str, details: Mapping[str, Any]) -> Any | None:
    """The scoring result (NPS, proportion or mean) for stored counts; None without counts.

    The counts are named as aggregation stores them (`STATISTICS`, answers first).
    """
    names = STATISTICS.get(aggregation)
    if not names or any(name not in details for name in names) or not details[names[0]]:
        return None
    if "items_sq" in details:  # a multi-item metric: respondents are n (clustered SE)
        return _multi_item(aggregation, details)
    answers, *counts = (details[name] for name in names)
    if aggregation == A.NPS:
        promoters, detractors = counts
        return scoring.nps(promoters, answers - promoters - detractors, detractors)
    if aggregation in (A.TOP_BOX, A.RATE):
        return scoring.top_box(counts[0], answers)
    if aggregation == A.MEAN:
        return scoring.mean_interval(answers, counts[0], counts[1])
    return None


def _multi_item(aggregation: str, details: Mapping[str, Any]) -> Any:
    sums = scoring.RespondentSums(
        respondents=details["respondents"],
        items=details["answers"],
        total=details["sum" if aggregation == A.MEAN else "k"],
        total_squares=details["respondent_sum_sq"],
        items_squares=details["items_sq"],
        total_items=details["sum_items"],
    )
    result = scoring.multi_item_mean(sums, min_n=MIN_INTERVAL_N)
    if aggregation == A.MEAN:
        return result
    scaled: dict[str, Any] = {
        name: None if getattr(result, name) is None else 100.0 * getattr(result, name)
        for name in ("value", "sd", "se", "ci_low", "ci_high")
    }
    return dataclasses.replace(result, **scaled)  # a share of item answers, in percent


def compare_details(
    metric: Metric, before: Mapping[str, Any], after: Mapping[str, Any]
) -> Any | None:
    """scoring.compare(before, after) for two sets of counts; None when either has none."""
    first = result_from_details(metric.aggregation, before)
    second = result_from_details(metric.aggregation, after)
    if first is None or second is None:
        return None
    return scoring.compare(first, second)


def compare_group_values(metric: Metric, before: Any, after: Any) -> Any | None:
    """Compare two GroupValue-like objects (with `details`) of one metric."""
    return compare_details(metric, before.details or {}, after.details or {})


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON (and PostgreSQL jsonb) has no NaN or infinity
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def comparison_as_json(comparison: Any) -> dict[str, Any]:
    """The Comparison's fields as JSON-safe values."""
    return {key: _plain(value) for key, value in dataclasses.asdict(comparison).items()}
