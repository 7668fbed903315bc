"""Change when the same respondents answer in both periods (STATISTICS.md rule 4, §1.3).

- Everyone answered both periods: paired t on per-respondent differences of NPS codes,
  top-box indicators or answers (`paired_change`, `paired_change_from_sums`).
- Some answered both, the rest one period only: the partially overlapping samples t-test
  (`partially_overlapping_change`, `overlap_change_from_sums`), where the repeat respondents
  contribute through their covariance and the others as independent samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import stats

from .common import LOW_N, FloatArray, _critical_z
from .comparisons import Comparison, _tested, _untested
from .means import _CANCELLATION
from .net_promoter import NPS_DETRACTOR_MAX, NPS_PROMOTER_MIN, NPS_SCALE_MAX

NPS_POINTS = 100.0  # ``scale`` for NPS codes and 0/1 indicators: results in (percentage) points


def nps_codes(
    scores: npt.ArrayLike,
    *,
    promoter_min: float = NPS_PROMOTER_MIN,
    detractor_max: float = NPS_DETRACTOR_MAX,
) -> FloatArray:
    """Per-respondent NPS codes: +1 promoter, 0 passive, -1 detractor; NaN if not on 0..10.

    The mean of the codes is NPS as a fraction (Rocks 2016), so a paired test of code
    differences tests the change in NPS.
    """
    values = np.asarray(scores, dtype=np.float64)
    on_scale = np.isfinite(values) & (values >= 0) & (values <= NPS_SCALE_MAX)
    coded = np.select([values >= promoter_min, values <= detractor_max], [1.0, -1.0], 0.0)
    return np.where(on_scale, coded, np.nan)


def paired_change_from_sums(
    n: float,
    total: float,
    total_squares: float,
    *,
    confidence: float = 0.95,
    scale: float = 1.0,
) -> Comparison:
    """Paired t test from COUNT, SUM and SUM of squares of per-respondent differences d_i.

    Method (Student 1908; e.g. Rosner, Fundamentals of Biostatistics §8.3): mean d̄ = Σd/n,
    s_d² = (Σd² − (Σd)²/n)/(n − 1) (clamped at 0 below the sum of squares' precision),
    SE = s_d/√n, t = d̄/SE with n − 1 df, CI d̄ ± t·SE; everything times ``scale`` (100 for
    NPS codes or 0/1 indicators, giving points). Assumes respondents independent of each
    other and d̄ roughly normal; the pairing removes the between-respondent variance that an
    independent-groups test would wrongly count twice.
    """
    _critical_z(confidence)
    method = "paired t-test (per-respondent differences)"
    if not (math.isfinite(n) and math.isfinite(total) and math.isfinite(total_squares)):
        return _untested(method, ["invalid_counts"])
    if n < 2:
        return _untested(method, ["no_data" if n < 1 else "no_interval", "low_n"])
    mean = total / n
    squares = total_squares - total * mean
    squares = squares if squares > _CANCELLATION * abs(total_squares) else 0.0
    se = scale * math.sqrt(squares / (n - 1) / n)
    warnings = ["low_n"] if n < LOW_N else []
    law = stats.t(n - 1)
    return _tested(scale * mean, se, law, confidence, method=method, warnings=warnings, df=n - 1)


def paired_change(
    first: npt.ArrayLike,
    second: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    scale: float = 1.0,
) -> Comparison:
    """Paired change second − first from per-respondent values aligned by respondent.

    ``first[i]`` and ``second[i]`` belong to one respondent: NPS codes (`nps_codes`, with
    ``scale=100``), 0/1 top-box indicators (``scale=100``) or answers (scale units).
    Respondents missing either value are dropped ("nan_excluded"). Same method as
    `paired_change_from_sums`.
    """
    before = np.asarray(first, dtype=np.float64).ravel()
    after = np.asarray(second, dtype=np.float64).ravel()
    if before.shape != after.shape:
        raise ValueError("first and second must hold one value per respondent each")
    differences = (after - before)[np.isfinite(before) & np.isfinite(after)]
    result = paired_change_from_sums(
        differences.size,
        float(differences.sum()),
        float(differences @ differences),
        confidence=confidence,
        scale=scale,
    )
    dropped = ("nan_excluded",) if differences.size < before.size else ()
    return replace(result, warnings=result.warnings + dropped)


@dataclass(frozen=True)
class OverlapSums:
    """Per-respondent sufficient statistics of two periods with partial overlap.

    Each respondent contributes one value per period they answered (their mean coded answer
    in that period). ``paired``: respondents of both periods, with Σx₁, Σx₂, Σx₁², Σx₂² and
    Σx₁x₂ over them; ``first_only`` / ``second_only``: respondents of one period, with Σx
    and Σx². Sums of coded values: NPS codes (+1/0/−1), 0/1 top-box indicators or answers.
    """

    paired: float = 0.0
    paired_first: float = 0.0
    paired_second: float = 0.0
    paired_first_squares: float = 0.0
    paired_second_squares: float = 0.0
    paired_products: float = 0.0
    first_only: float = 0.0
    first_only_total: float = 0.0
    first_only_squares: float = 0.0
    second_only: float = 0.0
    second_only_total: float = 0.0
    second_only_squares: float = 0.0


def _centred(n: float, total: float, squares: float) -> float:
    """Σ(x − x̄)² from n, Σx, Σx², clamped at 0 below the sum of squares' precision."""
    centred = squares - total * total / n
    return centred if centred > _CANCELLATION * abs(squares) else 0.0


def overlap_change_from_sums(
    sums: OverlapSums, *, confidence: float = 0.95, scale: float = 1.0, equal_var: bool = False
) -> Comparison:
    """Change second − first by the partially overlapping samples t-test.

    Method: Derrick, Russ, Toher & White (2017), "Test statistics for the comparison of means
    for two samples that include both paired and independent observations", J. Modern
    Applied Statistical Methods 16(1):137–157, statistic T_new2 (``equal_var=False``, the
    default) or T_new1 (``equal_var=True``); worked example in Derrick, Toher & White (2017),
    The Quantitative Methods for Psychology 13(2):120–126 (R ``Partiallyoverlapping::
    Partover.test``). With n₁ = n_a + n_c and n₂ = n_b + n_c respondents per period (n_c of
    them in both), x̄ and S² over all of a period's respondents and r the Pearson correlation
    of the n_c pairs (0 when either side of the pairs does not vary):

        SE² = S₁²/n₁ + S₂²/n₂ − 2·r·S₁·S₂·n_c/(n₁·n₂),
        df  = (n_c − 1) + (γ − n_c + 1)·(n_a + n_b)/(n_a + n_b + 2·n_c),

    γ the Welch–Satterthwaite df of the two periods (T_new1: pooled S², γ = n₁ + n₂ − 2).
    It reduces to the paired t when everyone answered both periods and to Welch's t when
    nobody did. Assumes respondents independent of each other and means roughly normal; the
    repeat respondents' positive correlation would otherwise be counted as independent
    noise (a conservative test that misses real changes). Everything times ``scale`` (100
    for NPS codes or 0/1 indicators: points). Needs at least two respondents per period;
    fewer give an untested result.
    """
    _critical_z(confidence)
    kind = "T_new1, pooled variance" if equal_var else "T_new2, Welch-type"
    method = f"partially overlapping samples t-test ({kind}; repeat respondents paired)"
    n_c, n_a, n_b = sums.paired, sums.first_only, sums.second_only
    first_n, second_n = n_a + n_c, n_b + n_c
    if not all(math.isfinite(value) for value in vars(sums).values()):
        return _untested(method, ["invalid_counts"])
    if min(first_n, second_n) < 2:
        return _untested(method, ["no_data" if min(first_n, second_n) < 1 else "no_interval"])
    first_total = sums.first_only_total + sums.paired_first
    second_total = sums.second_only_total + sums.paired_second
    first_var = _centred(
        first_n, first_total, sums.first_only_squares + sums.paired_first_squares
    ) / (first_n - 1)
    second_var = _centred(
        second_n, second_total, sums.second_only_squares + sums.paired_second_squares
    ) / (second_n - 1)
    r = _pair_correlation(sums)
    if equal_var:
        pooled = ((first_n - 1) * first_var + (second_n - 1) * second_var) / (
            first_n + second_n - 2
        )
        variance = pooled * (1 / first_n + 1 / second_n - 2 * r * n_c / (first_n * second_n))
        gamma = first_n + second_n - 2
    else:
        parts = first_var / first_n, second_var / second_n
        covariance = r * math.sqrt(first_var * second_var)
        variance = sum(parts) - 2 * covariance * n_c / (first_n * second_n)
        denominator = parts[0] ** 2 / (first_n - 1) + parts[1] ** 2 / (second_n - 1)
        gamma = sum(parts) ** 2 / denominator if denominator > 0 else first_n + second_n - 2
    df = (n_c - 1) + (gamma - n_c + 1) * (n_a + n_b) / (n_a + n_b + 2 * n_c)
    difference = scale * (second_total / second_n - first_total / first_n)
    warnings = ["low_n"] if min(first_n, second_n) < LOW_N else []
    se = scale * math.sqrt(max(variance, 0.0))
    if not df > 0:
        return _untested(method, [*warnings, "no_interval"], difference=difference)
    return _tested(difference, se, stats.t(df), confidence, method=method, warnings=warnings, df=df)


def _pair_correlation(sums: OverlapSums) -> float:
    """Pearson r of the repeat respondents' two values; 0 without two varying pairs."""
    n_c = sums.paired
    if n_c < 2:
        return 0.0
    first_spread = _centred(n_c, sums.paired_first, sums.paired_first_squares)
    second_spread = _centred(n_c, sums.paired_second, sums.paired_second_squares)
    if first_spread == 0.0 or second_spread == 0.0:
        return 0.0
    products = sums.paired_products - sums.paired_first * sums.paired_second / n_c
    r = products / math.sqrt(first_spread * second_spread)
    return min(max(r, -1.0), 1.0)


def _sums_of(values: npt.ArrayLike) -> tuple[float, float, float]:
    array = np.asarray(values, dtype=np.float64).ravel()
    return float(array.size), float(array.sum()), float(array @ array)


def partially_overlapping_change(
    first_only: npt.ArrayLike,
    second_only: npt.ArrayLike,
    first_paired: npt.ArrayLike,
    second_paired: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    scale: float = 1.0,
    equal_var: bool = False,
) -> Comparison:
    """`overlap_change_from_sums` from raw values: respondents of one period only, and the
    repeat respondents' values aligned (``first_paired[i]``, ``second_paired[i]``: one
    respondent). Raises ValueError when the paired arrays differ in length."""
    paired_first = np.asarray(first_paired, dtype=np.float64).ravel()
    paired_second = np.asarray(second_paired, dtype=np.float64).ravel()
    if paired_first.shape != paired_second.shape:
        raise ValueError("first_paired and second_paired must hold one value per respondent")
    n_c, first_total, first_squares = _sums_of(paired_first)
    _, second_total, second_squares = _sums_of(paired_second)
    n_a, a_total, a_squares = _sums_of(first_only)
    n_b, b_total, b_squares = _sums_of(second_only)
    sums = OverlapSums(
        paired=n_c,
        paired_first=first_total,
        paired_second=second_total,
        paired_first_squares=first_squares,
        paired_second_squares=second_squares,
        paired_products=float(paired_first @ paired_second),
        first_only=n_a,
        first_only_total=a_total,
        first_only_squares=a_squares,
        second_only=n_b,
        second_only_total=b_total,
        second_only_squares=b_squares,
    )
    return overlap_change_from_sums(sums, confidence=confidence, scale=scale, equal_var=equal_var)
