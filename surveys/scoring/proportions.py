"""Shares in percent (top-box, rates) with Wilson intervals, and answer distributions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
class Distribution:
    """Counts and shares (percent of the answers that fall in a category) per category."""

    categories: tuple[Any, ...]
    counts: tuple[int, ...]
    shares: tuple[float | None, ...]
    n: int
    excluded: int
    warnings: tuple[str, ...] = ()


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
