"""Net Promoter Score (and eNPS): counts, points, Wald and adjusted-Wald intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .common import (
    FloatArray,
    Population,
    _critical_z,
    _floats,
    _fpc_factor,
    _optional,
    _valid_counts,
    _warnings,
)

NPS_PROMOTER_MIN = 9  # 9-10 promoters, 0-6 detractors (Reichheld 2003; R `NPS` breaks)
NPS_DETRACTOR_MAX = 6
NPS_SCALE_MAX = 10

ADJUSTED_WALD_PSEUDO = (0.75, 1.5, 0.75)  # promoters, passives, detractors (MeasuringU)
NPS_INTERVALS = ("wald", "adjusted_wald")  # what ``interval=`` may put in ci_low / ci_high


@dataclass(frozen=True)
class NpsResult:
    """NPS (or eNPS) of one group, in points; Wald and adjusted-Wald intervals.

    ``ci_low``/``ci_high`` hold the interval named by ``interval`` (Wald unless asked
    otherwise); ``wald_*`` and ``adjusted_*`` always hold both.
    """

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
    interval: str = "wald"
    wald_low: float | None = None
    wald_high: float | None = None


@dataclass(frozen=True)
class NpsArrays:
    """NPS per cell (points): float arrays, NaN where a cell has no (valid) answers.

    ``ci_low``/``ci_high`` hold the interval named by ``interval``; ``wald_*`` (None only
    when built by hand) and ``adjusted_*`` always hold both.
    """

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
    interval: str = "wald"
    wald_low: FloatArray | None = None
    wald_high: FloatArray | None = None


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


def _check_interval(interval: str) -> None:
    if interval not in NPS_INTERVALS:
        raise ValueError(f"interval must be one of {NPS_INTERVALS}, got {interval!r}")


def nps_arrays(
    promoters: npt.ArrayLike,
    passives: npt.ArrayLike,
    detractors: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    population: Population = None,
    interval: str = "wald",
) -> NpsArrays:
    """Vectorised NPS in points with Wald and adjusted-Wald intervals, one element per cell.

    Method (STATISTICS.md §1.2): NPS = 100·(P - D)/n with n = P + A + D; per-respondent
    variance of the +1/0/-1 codes (pP + pD) - (pP - pD)^2 (population form, ddof=0), never two
    independent binomials; SE = 100·sqrt(var/n); Wald CI = NPS ± z·SE. The adjusted Wald
    (MeasuringU; R ``NPS``) adds 0.75 promoters, 1.5 passives and 0.75 detractors (n + 3) and
    centres its interval on the adjusted NPS. Intervals are clipped to [-100, 100] only after
    computing. ``population`` applies the finite population correction to both SEs.

    ``interval="adjusted_wald"`` puts the adjusted Wald in ci_low/ci_high: it never collapses
    at NPS ±100 or n = 1 and covers best at small n (Rocks 2016, Am. Stat. 70(4); Sauro &
    Lewis 2021; STATISTICS.md rule 3). ``se`` stays the plain trinomial SE.
    """
    _check_interval(interval)
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
    scored = (value, se, low, high, adjusted_low, adjusted_high)
    value, se, low, high, adjusted_low, adjusted_high = (np.where(valid, a, np.nan) for a in scored)
    primary = (adjusted_low, adjusted_high) if interval == "adjusted_wald" else (low, high)
    counts = (value, n, promoters, passives, detractors, se)
    return NpsArrays(*counts, *primary, adjusted_low, adjusted_high, interval, low, high)


def nps(
    promoters: float,
    passives: float,
    detractors: float,
    *,
    confidence: float = 0.95,
    population: int | None = None,
    interval: str = "wald",
) -> NpsResult:
    """NPS of one group in points with SE, Wald and adjusted-Wald intervals.

    Same method as ``nps_arrays`` (to which it delegates). No answers: value None and
    "no_data"; all answers in one category: a zero-width Wald interval and "zero_variance"
    (the adjusted-Wald interval is the one to show then, as for any small n: pass
    ``interval="adjusted_wald"`` to make it ci_low/ci_high).
    """
    counts = (promoters, passives, detractors)
    cell = nps_arrays(*counts, confidence=confidence, population=population, interval=interval)
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
        interval=interval,
        wald_low=_optional(cell.wald_low),
        wald_high=_optional(cell.wald_high),
    )


enps = nps  # eNPS: the same arithmetic on "recommend as a place to work" answers (§1.1)
enps_arrays = nps_arrays
