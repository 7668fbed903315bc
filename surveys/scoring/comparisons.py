"""Change between two independent periods or groups of one kind of result (`compare`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import stats

from .common import _critical_z
from .means import MeanResult
from .net_promoter import NpsResult
from .proportions import ProportionResult, _wilson
from .significance import is_significant


@dataclass(frozen=True)
class Comparison:
    """Change from a first to a second result (second minus first), in the inputs' units."""

    difference: float | None
    se: float | None
    statistic: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    significant: bool
    method: str
    warnings: tuple[str, ...] = ()
    df: float | None = None


def _tested(
    difference: float,
    se: float,
    reference: Any,
    confidence: float,
    *,
    method: str,
    warnings: list[str],
    df: float | None = None,
) -> Comparison:
    """Wald-type test and interval difference ± critical·se; ``reference``: a scipy law."""
    if not se > 0:
        return _untested(method, [*warnings, "zero_variance"], difference=difference)
    statistic = difference / se
    p_value = float(2.0 * reference.sf(abs(statistic)))
    critical = (
        _critical_z(confidence)
        if reference is stats.norm
        else float(reference.ppf(0.5 + confidence / 2.0))
    )
    return Comparison(
        difference=difference,
        se=se,
        statistic=statistic,
        p_value=p_value,
        ci_low=difference - critical * se,
        ci_high=difference + critical * se,
        significant=is_significant(p_value, confidence),
        method=method,
        warnings=tuple(warnings),
        df=df,
    )


def _untested(method: str, warnings: list[str], *, difference: float | None = None) -> Comparison:
    return Comparison(
        difference=difference,
        se=None,
        statistic=None,
        p_value=None,
        ci_low=None,
        ci_high=None,
        significant=False,
        method=method,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _pair_warnings(first: Any, second: Any) -> list[str]:
    found = []
    if first.value is None or second.value is None:
        found.append("no_data")
    if "low_n" in first.warnings or "low_n" in second.warnings:
        found.append("low_n")
    if first.population is not None or second.population is not None:
        found.append("fpc_ignored")
    return found


def _compare_nps(first: NpsResult, second: NpsResult, confidence: float) -> Comparison:
    """z = ΔNPS / sqrt(var1/n1 + var2/n2), trinomial variances (§1.3; R ``nps.test``)."""
    method = "NPS z-test (trinomial variances)"
    warnings = _pair_warnings(first, second)
    if first.value is None or second.value is None:
        return _untested(method, warnings)
    variance = 0.0
    for result in (first, second):
        promoters, detractors, n = result.promoters, result.detractors, result.n
        variance += ((promoters + detractors) / n - ((promoters - detractors) / n) ** 2) / n
    difference = second.value - first.value
    se = 100.0 * math.sqrt(max(variance, 0.0))
    comparison = _tested(difference, se, stats.norm, confidence, method=method, warnings=warnings)
    if comparison.ci_low is None or comparison.ci_high is None:
        return comparison
    low, high = max(comparison.ci_low, -200.0), min(comparison.ci_high, 200.0)
    return replace(comparison, ci_low=low, ci_high=high)


def _compare_proportions(
    first: ProportionResult, second: ProportionResult, confidence: float
) -> Comparison:
    """Pooled two-proportion z (score) test; Newcombe hybrid-score CI of the difference (§1.4).

    ``se`` is the unpooled SE sqrt(SE1^2 + SE2^2); the test statistic uses the pooled one.
    """
    method = "two-proportion pooled z (score) test, Newcombe hybrid-score CI"
    warnings = _pair_warnings(first, second)
    if first.value is None or second.value is None:
        return _untested(method, warnings)
    p_first, p_second = first.k / first.n, second.k / second.n
    pooled = (first.k + second.k) / (first.n + second.n)
    null_se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / first.n + 1.0 / second.n))
    difference = 100.0 * (p_second - p_first)
    tested = _tested(
        difference, 100.0 * null_se, stats.norm, confidence, method=method, warnings=warnings
    )
    if tested.statistic is None:
        return tested
    (low_first, low_second), (high_first, high_second) = _wilson(
        np.array([p_first, p_second]), np.array([first.n, second.n]), _critical_z(confidence)
    )
    se = math.sqrt(p_first * (1.0 - p_first) / first.n + p_second * (1.0 - p_second) / second.n)
    return replace(
        tested,
        se=100.0 * se,
        ci_low=difference - 100.0 * math.hypot(p_second - low_second, high_first - p_first),
        ci_high=difference + 100.0 * math.hypot(high_second - p_second, p_first - low_first),
    )


def _compare_means(first: MeanResult, second: MeanResult, confidence: float) -> Comparison:
    """Welch's t test and interval, Welch-Satterthwaite df (§1.4, CES)."""
    method = "Welch t-test"
    warnings = _pair_warnings(first, second)
    if first.value is None or second.value is None:
        return _untested(method, warnings)
    if first.sd is None or second.sd is None:
        return _untested(method, [*warnings, "no_interval"])
    part_first, part_second = first.sd**2 / first.n, second.sd**2 / second.n
    se = math.sqrt(part_first + part_second)
    difference = second.value - first.value
    if not se > 0:
        return _untested(method, [*warnings, "zero_variance"], difference=difference)
    df = (part_first + part_second) ** 2 / (
        part_first**2 / (first.n - 1) + part_second**2 / (second.n - 1)
    )
    return _tested(difference, se, stats.t(df), confidence, method=method, warnings=warnings, df=df)


_COMPARERS: dict[type, Any] = {
    NpsResult: _compare_nps,
    ProportionResult: _compare_proportions,
    MeanResult: _compare_means,
}


def compare(first: Any, second: Any, *, confidence: float = 0.95) -> Comparison:
    """Change from ``first`` to ``second`` (two independent periods or groups): second - first.

    Dispatches on the result type: NpsResult → z on trinomial variances (points);
    ProportionResult → pooled z score test with Newcombe CI (percentage points); MeanResult →
    Welch t with Welch-Satterthwaite df (scale units). Assumes independent samples (the same
    respondents twice need a paired analysis) and ignores any finite population correction
    ("fpc_ignored"). ``significant`` means p < α with α = 1 − confidence rounded to 12
    decimals (`significance_level`: p = 0.05 exactly is not significant at 95 %). Raises
    ValueError for results of different kinds, TypeError for anything else.
    """
    if type(first) is not type(second):
        raise ValueError(
            f"compare needs two results of one kind, got {type(first).__name__} "
            f"and {type(second).__name__}"
        )
    comparer = _COMPARERS.get(type(first))
    if comparer is None:
        raise TypeError(f"cannot compare {type(first).__name__} results")
    _critical_z(confidence)
    return comparer(first, second, confidence)
