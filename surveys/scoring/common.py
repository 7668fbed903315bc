"""Array types, the low-n threshold and helpers the scoring modules share."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Population = float | npt.ArrayLike | None  # N: one number, or one per cell

LOW_N = 30  # below this many answers an estimate is flagged "low_n"


@functools.lru_cache(maxsize=64)
def _critical_z(confidence: float) -> float:
    """Two-sided standard normal critical value; ValueError outside 0 < confidence < 1.

    Memoised: a page scoring hundreds of cells asks for the same one or two levels, and
    each scipy ppf call costs about a third of a millisecond."""
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
