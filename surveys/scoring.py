"""Pure scoring statistics for survey metrics (no Django): NPS, top-box shares, means, changes.

Conventions used throughout (STATISTICS.md §0-§1):

- Units: NPS/eNPS in points (-100..100), shares (top-box, rates) in percent (0..100), means in
  the answer scale's units; a difference carries the units of what it compares.
- Counts may be floats (the database returns them so); passives count in the NPS base.
- ``*_arrays`` functions score one array element per cell and never raise for a bad cell: an
  empty or invalid cell (negative or non-finite counts, more hits than answers) comes back NaN.
  The scalar functions delegate to them, so each formula exists once, and return frozen
  dataclasses with None for what cannot be computed and the reason as a short warning:
  "no_data", "invalid_counts", "low_n" (n < LOW_N), "no_interval" (a mean from < 2 answers),
  "zero_variance", "population_below_n", "nan_excluded", "fpc_ignored".
- Intervals are two-sided at ``confidence`` (default 0.95); parameters out of range raise
  ValueError.
- Finite population correction (STATISTICS.md §1.2): ``population`` N (e.g. a team's headcount
  in an employee census) multiplies standard errors by sqrt((N - n)/(N - 1)); N = n gives a
  zero-width interval. Whether a team is a finite population or a sample of a process is a
  product decision; the default (None) is the superpopulation view. A population below n is
  treated as unknown (no correction). Comparisons between periods or groups always use the
  uncorrected variances.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, overload

import numpy as np
import numpy.typing as npt
from scipy import stats

__all__ = [
    "CEILING_MIN_N",
    "CEILING_SHARE",
    "LOW_N",
    "NPS_DETRACTOR_MAX",
    "NPS_PROMOTER_MIN",
    "STRAIGHT_LINING_MIN_ITEMS",
    "Comparison",
    "Distribution",
    "MeanArrays",
    "MeanResult",
    "NpsArrays",
    "NpsResult",
    "ProportionArrays",
    "ProportionResult",
    "compare",
    "distribution",
    "enps",
    "enps_arrays",
    "favourability_index",
    "mean_interval",
    "mean_interval_arrays",
    "mean_interval_from_sums",
    "mean_interval_from_values",
    "nps",
    "nps_arrays",
    "nps_counts",
    "plausibility_flags",
    "plausibility_flags_cells",
    "proportion",
    "proportion_arrays",
    "straight_lining",
    "top_box",
    "top_box_arrays",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Population = float | npt.ArrayLike | None  # N: one number, or one per cell

NPS_PROMOTER_MIN = 9  # 9-10 promoters, 0-6 detractors (Reichheld 2003; R `NPS` breaks)
NPS_DETRACTOR_MAX = 6
NPS_SCALE_MAX = 10
LOW_N = 30  # below this many answers an estimate is flagged "low_n"
CEILING_SHARE = 95.0  # top-box share (percent) that is suspicious on a large sample ...
CEILING_MIN_N = 100  # ... of at least this many answers
STRAIGHT_LINING_MIN_ITEMS = 3
ADJUSTED_WALD_PSEUDO = (0.75, 1.5, 0.75)  # promoters, passives, detractors (MeasuringU)
# Sum-of-squares variance is only resolved to about this fraction of the sum of squares.
_CANCELLATION = 1e-12


@dataclass(frozen=True)
class NpsResult:
    """NPS (or eNPS) of one group, in points; Wald and adjusted-Wald intervals."""

    value: float | None
    n: float
    promoters: float
    passives: float
    detractors: float
    se: float | None
    ci_low: float | None
    ci_high: float | None
    adjusted_low: float | None
    adjusted_high: float | None
    warnings: tuple[str, ...] = ()
    population: float | None = None


@dataclass(frozen=True)
class NpsArrays:
    """NPS per cell (points): float arrays, NaN where a cell has no (valid) answers."""

    value: FloatArray
    n: FloatArray
    promoters: FloatArray
    passives: FloatArray
    detractors: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    adjusted_low: FloatArray
    adjusted_high: FloatArray


@dataclass(frozen=True)
class ProportionResult:
    """A share k/n in percent with its binomial SE and Wilson score interval."""

    value: float | None
    n: float
    k: float
    se: float | None
    ci_low: float | None
    ci_high: float | None
    warnings: tuple[str, ...] = ()
    population: float | None = None


@dataclass(frozen=True)
class ProportionArrays:
    """Shares per cell (percent): float arrays, NaN where a cell has no (valid) answers."""

    value: FloatArray
    n: FloatArray
    k: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray


@dataclass(frozen=True)
class MeanResult:
    """A mean in scale units with sample SD (ddof=1), SE and t interval."""

    value: float | None
    n: float
    sd: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    warnings: tuple[str, ...] = ()
    population: float | None = None


@dataclass(frozen=True)
class MeanArrays:
    """Means per cell: float arrays; SD, SE and interval NaN below two answers."""

    value: FloatArray
    n: FloatArray
    sd: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray


@dataclass(frozen=True)
class Distribution:
    """Counts and shares (percent of the answers that fall in a category) per category."""

    categories: tuple[Any, ...]
    counts: tuple[int, ...]
    shares: tuple[float | None, ...]
    n: int
    excluded: int
    warnings: tuple[str, ...] = ()


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


# ------------------------------------------------------------------ shared helpers


def _critical_z(confidence: float) -> float:
    """Two-sided standard normal critical value; ValueError outside 0 < confidence < 1."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def _floats(*values: npt.ArrayLike) -> list[FloatArray]:
    return [np.asarray(value, dtype=np.float64) for value in np.broadcast_arrays(*values)]


def _optional(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _fpc_factor(n: FloatArray, population: Population) -> FloatArray:
    """sqrt((N - n)/(N - 1)); 0 for a census (N = n); 1 without, or with an impossible, N."""
    if population is None:
        return np.ones_like(n)
    size = np.asarray(population, dtype=np.float64)
    correctable = np.isfinite(size) & (size > n) & (size > 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.sqrt((size - n) / (size - 1))
    return np.where(correctable, factor, np.where(size == n, 0.0, 1.0))


def _warnings(n: float, *, valid: bool, population: float | None) -> list[str]:
    """Warnings every sample estimate shares: invalid input, no data, small n, bad N."""
    if not valid:
        return ["invalid_counts"]
    if n == 0:
        return ["no_data"]
    found = ["low_n"] if n < LOW_N else []
    if population is not None and population < n:
        found.append("population_below_n")
    return found


def _valid_counts(*counts: float) -> bool:
    return all(math.isfinite(count) and count >= 0 for count in counts)


# ------------------------------------------------------------------ NPS


def nps_counts(
    scores: npt.ArrayLike,
    *,
    promoter_min: float = NPS_PROMOTER_MIN,
    detractor_max: float = NPS_DETRACTOR_MAX,
) -> tuple[int, int, int]:
    """Promoters, passives and detractors among 0-10 answers.

    Promoters score >= ``promoter_min``, detractors <= ``detractor_max``, passives in between.
    NaN and scores outside 0..10 are excluded (skipped answers are not in the NPS base).
    """
    if not 0 <= detractor_max < promoter_min <= NPS_SCALE_MAX:
        raise ValueError("need 0 <= detractor_max < promoter_min <= 10")
    values = np.asarray(scores, dtype=np.float64).ravel()
    values = values[np.isfinite(values) & (values >= 0) & (values <= NPS_SCALE_MAX)]
    promoters = int(np.count_nonzero(values >= promoter_min))
    detractors = int(np.count_nonzero(values <= detractor_max))
    return promoters, values.size - promoters - detractors, detractors


def _trinomial(
    promoters: FloatArray, detractors: FloatArray, n: FloatArray, factor: FloatArray, z: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """NPS, SE (points, times the FPC factor) and Wald limits clipped to [-100, 100]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (promoters - detractors) / n
        variance = np.maximum((promoters + detractors) / n - value**2, 0.0)
        se = np.sqrt(variance / n) * factor
    low, high = (
        np.clip(100.0 * bound, -100.0, 100.0) for bound in (value - z * se, value + z * se)
    )
    return 100.0 * value, 100.0 * se, low, high


def nps_arrays(
    promoters: npt.ArrayLike,
    passives: npt.ArrayLike,
    detractors: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    population: Population = None,
) -> NpsArrays:
    """Vectorised NPS in points with Wald and adjusted-Wald intervals, one element per cell.

    Method (STATISTICS.md §1.2): NPS = 100·(P - D)/n with n = P + A + D; per-respondent
    variance of the +1/0/-1 codes (pP + pD) - (pP - pD)^2 (population form, ddof=0), never two
    independent binomials; SE = 100·sqrt(var/n); Wald CI = NPS ± z·SE. The adjusted Wald
    (MeasuringU; R ``NPS``) adds 0.75 promoters, 1.5 passives and 0.75 detractors (n + 3) and
    centres its interval on the adjusted NPS. Intervals are clipped to [-100, 100] only after
    computing. ``population`` applies the finite population correction to both SEs.
    """
    z = _critical_z(confidence)
    promoters, passives, detractors = _floats(promoters, passives, detractors)
    n = promoters + passives + detractors
    smallest = np.minimum(np.minimum(promoters, passives), detractors)
    valid = (n > 0) & np.isfinite(n) & (smallest >= 0)
    factor = _fpc_factor(n, population)
    extra_promoters, extra_passives, extra_detractors = ADJUSTED_WALD_PSEUDO
    adjusted_n = n + extra_promoters + extra_passives + extra_detractors
    adjusted = (promoters + extra_promoters, detractors + extra_detractors, adjusted_n)
    value, se, low, high = _trinomial(promoters, detractors, n, factor, z)
    *_, adjusted_low, adjusted_high = _trinomial(*adjusted, factor, z)
    scored = [value, se, low, high, adjusted_low, adjusted_high]
    value, se, low, high, adjusted_low, adjusted_high = (
        np.where(valid, array, np.nan) for array in scored
    )
    return NpsArrays(
        value, n, promoters, passives, detractors, se, low, high, adjusted_low, adjusted_high
    )


def nps(
    promoters: float,
    passives: float,
    detractors: float,
    *,
    confidence: float = 0.95,
    population: int | None = None,
) -> NpsResult:
    """NPS of one group in points with SE, Wald and adjusted-Wald intervals.

    Same method as ``nps_arrays`` (to which it delegates). No answers: value None and
    "no_data"; all answers in one category: a zero-width Wald interval and "zero_variance"
    (the adjusted-Wald interval is the one to show then, as for any small n).
    """
    cell = nps_arrays(promoters, passives, detractors, confidence=confidence, population=population)
    n = promoters + passives + detractors
    valid = _valid_counts(promoters, passives, detractors)
    warnings = _warnings(n, valid=valid, population=population)
    if valid and n > 0 and max(promoters, passives, detractors) == n:
        warnings.append("zero_variance")
    return NpsResult(
        value=_optional(cell.value),
        n=n,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        se=_optional(cell.se),
        ci_low=_optional(cell.ci_low),
        ci_high=_optional(cell.ci_high),
        adjusted_low=_optional(cell.adjusted_low),
        adjusted_high=_optional(cell.adjusted_high),
        warnings=tuple(warnings),
        population=population,
    )


enps = nps  # eNPS: the same arithmetic on "recommend as a place to work" answers (§1.1)
enps_arrays = nps_arrays


# ------------------------------------------------------------------ shares (top-box, rates)


def _wilson(share: FloatArray, n: FloatArray, z: float) -> tuple[FloatArray, FloatArray]:
    """Wilson score limits for fractions; n may be infinite (a census: zero width)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z2n = z**2 / n
        centre = (share + z2n / 2.0) / (1.0 + z2n)
        half = z * np.sqrt(share * (1.0 - share) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    # Exact limits at 0 % and 100 % (the formula leaves rounding residue there).
    low = np.where(share == 0.0, 0.0, np.clip(centre - half, 0.0, 1.0))
    return low, np.where(share == 1.0, 1.0, np.clip(centre + half, 0.0, 1.0))


def top_box_arrays(
    k: npt.ArrayLike,
    n: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    population: Population = None,
) -> ProportionArrays:
    """Vectorised share k/n in percent with Wilson score intervals, one element per cell.

    Method (STATISTICS.md §1.4): p = k/n; Wilson (1927) score interval, which stays inside
    0..100 and does not collapse at 0 % or 100 % as Wald does; SE = 100·sqrt(p(1 - p)/n)
    (binomial, i.i.d. answers). ``population`` corrects both: the SE by the FPC factor, the
    Wilson interval through the effective size n·(N - 1)/(N - n) (Polaris MR's form).
    """
    z = _critical_z(confidence)
    k, n = _floats(k, n)
    valid = np.isfinite(k) & np.isfinite(n) & (k >= 0) & (k <= n) & (n > 0)
    factor = _fpc_factor(n, population)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = k / n
        se = np.sqrt(share * (1.0 - share) / n) * factor
        effective_n = n / factor**2
    low, high = _wilson(share, effective_n, z)
    return ProportionArrays(
        value=np.where(valid, 100.0 * share, np.nan),
        n=n,
        k=k,
        se=np.where(valid, 100.0 * se, np.nan),
        ci_low=np.where(valid, 100.0 * low, np.nan),
        ci_high=np.where(valid, 100.0 * high, np.nan),
    )


def top_box(
    k: float, n: float, *, confidence: float = 0.95, population: int | None = None
) -> ProportionResult:
    """Share of answers in the top box(es) (e.g. CSAT 4-5 of 1-5), in percent, Wilson interval.

    Same method as ``top_box_arrays``. Also scores rates (share of yes/1 answers); exported as
    ``proportion`` too. k > n or negative counts give "invalid_counts".
    """
    cell = top_box_arrays(k, n, confidence=confidence, population=population)
    valid = _valid_counts(k, n) and k <= n
    return ProportionResult(
        value=_optional(cell.value),
        n=n,
        k=k,
        se=_optional(cell.se),
        ci_low=_optional(cell.ci_low),
        ci_high=_optional(cell.ci_high),
        warnings=tuple(_warnings(n, valid=valid, population=population)),
        population=population,
    )


proportion = top_box
proportion_arrays = top_box_arrays


def distribution(values: npt.ArrayLike, categories: Sequence[Any]) -> Distribution:
    """Counts and shares (percent) of each category among the answers that match one.

    Answers matching no category (NaN, skipped, out of scale) are counted as ``excluded`` and
    left out of the share base. No matching answers: shares None and "no_data".
    """
    if len(set(categories)) != len(categories):
        raise ValueError("categories must be distinct")
    answers = np.asarray(values).ravel()
    counts = tuple(int(np.count_nonzero(answers == category)) for category in categories)
    n = sum(counts)
    shares = tuple(100.0 * count / n if n else None for count in counts)
    return Distribution(
        categories=tuple(categories),
        counts=counts,
        shares=shares,
        n=n,
        excluded=int(answers.size) - n,
        warnings=() if n else ("no_data",),
    )


# ------------------------------------------------------------------ means


def mean_interval_arrays(
    n: npt.ArrayLike,
    total: npt.ArrayLike,
    total_squares: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    population: Population = None,
) -> MeanArrays:
    """Vectorised means with t intervals from sufficient statistics (COUNT, SUM, SUM of squares).

    Method: mean = total/n; sample SD with ddof=1 from the sum of squared deviations
    total_squares - total·mean, clamped at 0 (and set to 0 below the precision of the sum of
    squares) so rounding never gives a negative variance; SE = SD/sqrt(n) times the FPC factor
    when ``population`` is given; CI = mean ± t(n - 1)·SE (Student t, assumes roughly normal
    means). Cells with fewer than two answers get NaN SD, SE and interval; empty cells NaN.
    """
    _critical_z(confidence)
    n, total, total_squares = _floats(n, total, total_squares)
    valid = np.isfinite(n) & np.isfinite(total) & np.isfinite(total_squares) & (n > 0)
    spread = valid & (n >= 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / n
        squares = total_squares - total * mean
        squares = np.where(squares > _CANCELLATION * np.abs(total_squares), squares, 0.0)
        sd = np.where(spread, np.sqrt(squares / (n - 1)), np.nan)
        se = sd / np.sqrt(n) * _fpc_factor(n, population)
    critical = stats.t.ppf(0.5 + confidence / 2.0, np.where(spread, n - 1, np.nan))
    return MeanArrays(
        value=np.where(valid, mean, np.nan),
        n=n,
        sd=sd,
        se=se,
        ci_low=mean - critical * se,
        ci_high=mean + critical * se,
    )


def mean_interval(
    n: float,
    total: float,
    total_squares: float,
    *,
    confidence: float = 0.95,
    population: int | None = None,
) -> MeanResult:
    """Mean of one group from COUNT, SUM and SUM of squares, with a t interval (scale units).

    Same method as ``mean_interval_arrays``. One answer: the mean without SD or interval and
    "no_interval"; identical answers: "zero_variance". Also exported as
    ``mean_interval_from_sums``.
    """
    cell = mean_interval_arrays(
        n, total, total_squares, confidence=confidence, population=population
    )
    valid = _valid_counts(n) and math.isfinite(total) and math.isfinite(total_squares)
    warnings = _warnings(n, valid=valid, population=population)
    if valid and 0 < n < 2:
        warnings.append("no_interval")
    if cell.sd == 0:
        warnings.append("zero_variance")
    return MeanResult(
        value=_optional(cell.value),
        n=n,
        sd=_optional(cell.sd),
        se=_optional(cell.se),
        ci_low=_optional(cell.ci_low),
        ci_high=_optional(cell.ci_high),
        warnings=tuple(warnings),
        population=population,
    )


mean_interval_from_sums = mean_interval


def mean_interval_from_values(
    values: npt.ArrayLike, *, confidence: float = 0.95, population: int | None = None
) -> MeanResult:
    """``mean_interval`` for raw answers; non-finite values are dropped ("nan_excluded").

    The answers are centred on their mean before summing, so large offsets (e.g. revenue)
    do not lose the variance to cancellation in the sum of squares.
    """
    answers = np.asarray(values, dtype=np.float64).ravel()
    finite = answers[np.isfinite(answers)]
    shift = float(finite.mean()) if finite.size else 0.0
    centred = finite - shift
    result = mean_interval(
        finite.size,
        float(centred.sum()),
        float(np.dot(centred, centred)),
        confidence=confidence,
        population=population,
    )
    moved = {
        name: None if getattr(result, name) is None else getattr(result, name) + shift
        for name in ("value", "ci_low", "ci_high")
    }
    dropped = ("nan_excluded",) if finite.size < answers.size else ()
    return replace(result, **moved, warnings=result.warnings + dropped)


@overload
def favourability_index(mean: float, scale_min: float, scale_max: float) -> float: ...
@overload
def favourability_index(mean: FloatArray, scale_min: float, scale_max: float) -> FloatArray: ...
def favourability_index(
    mean: float | FloatArray, scale_min: float, scale_max: float
) -> float | FloatArray:
    """A scale mean rescaled to 0-100: (mean - min)/(max - min)·100 (STATISTICS.md §1.4).

    For a 1..5 scale 1, 2, 3, 4, 5 map to 0, 25, 50, 75, 100. Not clipped: a mean outside the
    scale shows up as an index outside 0-100.
    """
    if not scale_max > scale_min:
        raise ValueError("scale_max must be greater than scale_min")
    index = (np.asarray(mean, dtype=np.float64) - scale_min) / (scale_max - scale_min) * 100.0
    return float(index) if index.ndim == 0 else index


# ------------------------------------------------------------------ comparisons


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
    critical = float(reference.ppf(0.5 + confidence / 2.0))
    return Comparison(
        difference=difference,
        se=se,
        statistic=statistic,
        p_value=p_value,
        ci_low=difference - critical * se,
        ci_high=difference + critical * se,
        significant=p_value < 1.0 - confidence,
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
    ("fpc_ignored"). ``significant`` means p < 1 - confidence. Raises ValueError for results of
    different kinds, TypeError for anything else.
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


# ------------------------------------------------------------------ plausibility


@overload
def plausibility_flags(
    *,
    n: float,
    top_box_share: float | None = None,
    low_n: int = LOW_N,
    ceiling_share: float = CEILING_SHARE,
    ceiling_min_n: int = CEILING_MIN_N,
) -> tuple[str, ...]: ...
@overload
def plausibility_flags(
    aggregation: str,
    statistics: npt.ArrayLike,
    /,
    *,
    low_n: int = LOW_N,
    ceiling_share: float = CEILING_SHARE,
    ceiling_min_n: int = CEILING_MIN_N,
) -> list[list[str]]: ...
def plausibility_flags(
    aggregation: str | None = None,
    statistics: npt.ArrayLike | None = None,
    /,
    *,
    n: float | None = None,
    top_box_share: float | None = None,
    low_n: int = LOW_N,
    ceiling_share: float = CEILING_SHARE,
    ceiling_min_n: int = CEILING_MIN_N,
) -> tuple[str, ...] | list[list[str]]:
    """Plausibility flags for one estimate: "low_n" and "too_good_to_be_true".

    "low_n": fewer than ``low_n`` answers. "too_good_to_be_true": a top-box share (percent)
    of at least ``ceiling_share`` on at least ``ceiling_min_n`` answers, where chance alone
    rarely produces it (solicited or gamed answers). Called positionally with an aggregation
    and rows of statistics, it is ``plausibility_flags_cells`` (the aggregation layer's form).
    """
    thresholds = {"low_n": low_n, "ceiling_share": ceiling_share, "ceiling_min_n": ceiling_min_n}
    if aggregation is not None:
        return plausibility_flags_cells(aggregation, np.asarray(statistics), **thresholds)
    if n is None:
        raise TypeError("plausibility_flags needs n= (or an aggregation and statistics)")
    flags = ["low_n"] if n < low_n else []
    if top_box_share is not None and n >= ceiling_min_n and top_box_share >= ceiling_share:
        flags.append("too_good_to_be_true")
    return tuple(flags)


def plausibility_flags_cells(
    aggregation: str,
    statistics: npt.ArrayLike,
    *,
    low_n: int = LOW_N,
    ceiling_share: float = CEILING_SHARE,
    ceiling_min_n: int = CEILING_MIN_N,
) -> list[list[str]]:
    """``plausibility_flags`` per cell from rows of sufficient statistics.

    Column 0 is the answer count n; for "nps" column 1 is promoters (the top box is 9-10), for
    "top_box" column 1 is hits. Other aggregations ("mean", "sum", "rate": a rate's direction
    is unknown) only get "low_n".
    """
    rows = np.atleast_2d(np.asarray(statistics, dtype=np.float64))
    n = rows[:, 0]
    too_good = np.zeros(len(n), dtype=bool)
    if aggregation in ("nps", "top_box") and rows.shape[1] > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            share = 100.0 * rows[:, 1] / n
        too_good = (n >= ceiling_min_n) & (share >= ceiling_share)
    few = n < low_n
    return [
        ["low_n"] * bool(small) + ["too_good_to_be_true"] * bool(good)
        for small, good in zip(few.tolist(), too_good.tolist(), strict=True)
    ]


def straight_lining(
    grid: npt.ArrayLike, *, min_items: int = STRAIGHT_LINING_MIN_ITEMS
) -> BoolArray:
    """Respondents (rows) who gave one identical answer to every item (column) of a grid.

    Non-finite cells are unanswered and ignored; a row needs at least ``min_items`` answered
    items to be flagged, since two equal answers say little.
    """
    answers = np.asarray(grid, dtype=np.float64)
    if answers.ndim != 2:
        raise ValueError("grid must be two-dimensional: respondents × items")
    answered = np.isfinite(answers)
    lowest = np.where(answered, answers, np.inf).min(axis=1, initial=np.inf)
    highest = np.where(answered, answers, -np.inf).max(axis=1, initial=-np.inf)
    return (answered.sum(axis=1) >= min_items) & (lowest == highest)
