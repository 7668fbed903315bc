"""Means with t intervals from sufficient statistics or raw answers; favourability index."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import overload

import numpy as np
import numpy.typing as npt
from scipy import stats

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

# Sum-of-squares variance is only resolved to about this fraction of the sum of squares.
_CANCELLATION = 1e-12


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


def mean_interval_arrays(
    n: npt.ArrayLike,
    total: npt.ArrayLike,
    total_squares: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    population: Population = None,
    min_n: int = 2,
    zero_width_interval: bool = True,
) -> MeanArrays:
    """Vectorised means with t intervals from sufficient statistics (COUNT, SUM, SUM of squares).

    Method: mean = total/n; sample SD (ddof=1) from total_squares - total·mean, clamped at 0
    (and 0 below the sum of squares' precision) so rounding never gives a negative variance;
    SE = SD/sqrt(n) times the FPC factor for ``population``; CI = mean ± t(n - 1)·SE (Student
    t, roughly normal means). Below two answers: NaN SD, SE and interval; empty cells NaN.
    No interval below ``min_n`` answers, nor (``zero_width_interval=False``) for identical
    answers: a zero-width interval claims a certainty a sample does not give.
    """
    _critical_z(confidence)
    n, total, total_squares = _floats(n, total, total_squares)
    valid = np.isfinite(n) & np.isfinite(total) & np.isfinite(total_squares) & (n > 0)
    spread = valid & (n >= 2)
    shown = spread & (n >= min_n)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / n
        squares = total_squares - total * mean
        squares = np.where(squares > _CANCELLATION * np.abs(total_squares), squares, 0.0)
        sd = np.where(spread, np.sqrt(squares / (n - 1)), np.nan)
        se = sd / np.sqrt(n) * _fpc_factor(n, population)
    shown &= zero_width_interval | (sd > 0)
    critical = stats.t.ppf(0.5 + confidence / 2.0, np.where(shown, n - 1, np.nan))
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
    min_n: int = 2,
    zero_width_interval: bool = True,
) -> MeanResult:
    """Mean of one group from COUNT, SUM and SUM of squares, with a t interval (scale units).

    Same method as ``mean_interval_arrays``. One answer: the mean without SD or interval and
    "no_interval"; identical answers: "zero_variance". Also exported as
    ``mean_interval_from_sums``. Fewer than ``min_n`` answers: no interval, "too_few"; with
    ``zero_width_interval=False``, identical answers give no interval and "no_variation".
    """
    cell = mean_interval_arrays(
        n,
        total,
        total_squares,
        confidence=confidence,
        population=population,
        min_n=min_n,
        zero_width_interval=zero_width_interval,
    )
    valid = _valid_counts(n) and math.isfinite(total) and math.isfinite(total_squares)
    warnings = _warnings(n, valid=valid, population=population)
    warnings += _interval_warnings(n if valid else 0.0, cell.sd, min_n, zero_width_interval)
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


def _interval_warnings(n: float, sd: FloatArray, min_n: int, zero_width: bool) -> list[str]:
    """Why a valid, non-empty mean has no interval (or a zero-width one)."""
    if n <= 0:
        return []
    found = ["too_few"] if n < min_n else []
    if n < max(min_n, 2):
        found.append("no_interval")
    if sd == 0:
        found += ["zero_variance"] if zero_width else ["no_variation", "no_interval"]
    return list(dict.fromkeys(found))


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

    def moved(bound: float | None) -> float | None:
        return None if bound is None else bound + shift

    dropped = ("nan_excluded",) if finite.size < answers.size else ()
    return replace(
        result,
        value=moved(result.value),
        ci_low=moved(result.ci_low),
        ci_high=moved(result.ci_high),
        warnings=result.warnings + dropped,
    )


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
