"""Change tests between two cells or group values, from the counts kept in their details.

Adapter between stored sufficient statistics (`details` of a MetricValue or GroupValue, named
as in `surveys.aggregation.STATISTICS`) and the pure `surveys.scoring`
functions, so the scorecard and initiative verification test changes the same way.
"""

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from surveys import scoring
from surveys.aggregation import MIN_INTERVAL_N, STATISTICS, ClusterSums, respondent_overlap_sums
from surveys.models import Metric, OrgUnit
from surveys.scoring.clustered import clustered_change
from surveys.scoring.exact import compare_small_sample
from surveys.scoring.paired import OverlapSums, overlap_change_from_sums

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


@dataclass(frozen=True)
class TestedChange:
    """A change between two periods tested at the level of the design, and that level."""

    comparison: Any  # scoring.Comparison
    level: str  # "stores" (clustered) or "respondents"
    clusters: int  # answering units in the test (1 for a single unit)
    paired: int = 0  # repeat respondents analysed paired (respondent level only)


MIN_PAIRED = 2  # repeat respondents needed before a change is analysed paired


def _clusters(sums: ClusterSums | None) -> int:
    return 0 if sums is None else int((sums.n.sum(axis=0) > 0).sum())


def at_respondent_level(sums: ClusterSums | None) -> bool:
    """Whether `tested_change` tests on respondents (fewer than two answering units)."""
    return _clusters(sums) < 2


def repeat_respondents(
    metric: Metric,
    unit: OrgUnit,
    periods: tuple[str, str],
    segment: Mapping[str, Any] | None = None,
) -> OverlapSums | None:
    """The respondents of `unit`'s subtree in both periods, for `tested_change`'s
    ``overlap`` (None when the metric is never paired)."""
    return respondent_overlap_sums(
        metrics=[metric], unit=unit, periods=periods, segment=segment
    ).get(metric.key)


def _scale(metric: Metric) -> float:
    return 1.0 if metric.aggregation == A.MEAN else 100.0


def tested_change(
    metric: Metric,
    before_details: Mapping[str, Any],
    after_details: Mapping[str, Any],
    sums: ClusterSums | None,
    overlap: OverlapSums | None = None,
) -> TestedChange | None:
    """The change before → after of one group, tested where its answers come from.

    A group answered at two or more units (a region's stores): the cluster-robust t test of
    the ratio-mean change with the units as clusters (`scoring.clustered_change`, CR1, G − 1
    df), because answers from one store move together and the i.i.d. test calls noise a
    change (STATISTICS.md §1.3, "clustered samples"). A single unit: its respondents are
    independent; exact or permutation tests at small n (`compare_small_sample`), else the
    z / Welch test. ``sums`` is a `ClusterSums` over exactly the two periods (or None).

    Repeat respondents: when ``overlap`` (`repeat_respondents`) shows at least MIN_PAIRED
    respondents of a single unit in both periods (same respondent key; never for employee
    or anonymous answers, see `respondent_overlap_sums`), the two periods are not
    independent samples and the change gets the partially overlapping samples t-test
    (`overlap_change_from_sums`): the repeat respondents count through their paired
    answers, the others independently.
    The clustered test needs no such step: a store's repeat customers sit in one cluster,
    whose covariance between the periods the cluster-robust SE already carries.
    """
    if sums is not None and not at_respondent_level(sums):
        comparison = clustered_change(
            sums.n[0], sums.total[0], sums.n[1], sums.total[1], scale=_scale(metric)
        )
        return TestedChange(comparison, "stores", _clusters(sums))
    first = result_from_details(metric.aggregation, before_details)
    second = result_from_details(metric.aggregation, after_details)
    if first is None or second is None:
        return None
    if type(first) is not type(second):
        return None
    if overlap is not None and overlap.paired >= MIN_PAIRED:
        comparison = overlap_change_from_sums(overlap, scale=_scale(metric))
        return TestedChange(comparison, "respondents", 1, paired=int(overlap.paired))
    return TestedChange(compare_small_sample(first, second), "respondents", 1)
