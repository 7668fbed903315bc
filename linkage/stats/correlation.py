"""Correlations of two vectors: Pearson, Spearman (with permutation p) and the Fisher CI."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from .common import SMALL_N, FloatArray, IntArray, _degenerate, _two_sided_p

_PERMUTATION_TOLERANCE = 1e-12  # relative slack so the observed statistic counts as "as extreme"

_FIELLER_VARIANCE = 1.06  # Fieller, Hartley & Pearson (1957) variance factor for Spearman's z


@dataclass(frozen=True)
class CorrelationResult:
    """One correlation with its two-sided p-value, CI and the number of complete pairs."""

    r: float
    p: float
    ci_low: float
    ci_high: float
    n: int
    warnings: tuple[str, ...]


def _fisher_interval(
    r: npt.ArrayLike, se: npt.ArrayLike, confidence: float
) -> tuple[FloatArray, FloatArray]:
    """Back-transformed interval atanh(r) ± z·se (normal quantile z for ``confidence``)."""
    z = special.ndtri(0.5 + confidence / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = np.arctanh(np.asarray(r, dtype=float))
        return np.tanh(centre - z * np.asarray(se)), np.tanh(centre + z * np.asarray(se))


def _complete_pairs(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray, bool]:
    """Pairwise-complete 1-D copies of x and y, and whether any pair was dropped."""
    x_array = np.asarray(x, dtype=float).ravel()
    y_array = np.asarray(y, dtype=float).ravel()
    if x_array.shape != y_array.shape:
        raise ValueError("x and y must have the same length")
    keep = np.isfinite(x_array) & np.isfinite(y_array)
    return x_array[keep], y_array[keep], bool(not keep.all())


def _centred_r(x: FloatArray, y: FloatArray) -> float:
    """Pearson r by two-pass centring; NaN for fewer than 3 pairs or a constant input."""
    if x.size < 3:
        return math.nan
    x_centred, y_centred = x - x.mean(), y - y.mean()
    sxx, syy = x_centred @ x_centred, y_centred @ y_centred
    if _degenerate(sxx, x.size, np.abs(x).max()) or _degenerate(syy, y.size, np.abs(y).max()):
        return math.nan
    return float(np.clip((x_centred @ y_centred) / math.sqrt(sxx * syy), -1.0, 1.0))


def _sample_warnings(n: int, r: float, dropped: bool) -> tuple[str, ...]:
    """Warnings shared by the two-vector correlations."""
    warnings = []
    if n < SMALL_N:
        warnings.append("small_n")
    if n >= 3 and math.isnan(r):
        warnings.append("constant_input")
    if dropped:
        warnings.append("missing_dropped")
    return tuple(warnings)


def _permutation_orders(
    size: int, permutations: int, rng: np.random.Generator | None
) -> tuple[IntArray, bool] | None:
    """Index permutations: all size! when that is ≤ ``permutations`` (exact), else random ones.

    Returns None when a random draw is needed but no generator was supplied.
    """
    if math.factorial(size) <= permutations:
        return np.array(list(itertools.permutations(range(size))), dtype=np.intp), True
    if rng is None:
        return None
    return rng.permuted(np.tile(np.arange(size), (permutations, 1)), axis=1), False


def _permutation_p_value(null: FloatArray, observed: float, exact: bool) -> float:
    """Two-sided permutation p: share of |null| ≥ |observed|; Monte Carlo adds one (Phipson)."""
    threshold = abs(observed) * (1.0 - _PERMUTATION_TOLERANCE)
    hits = int(np.count_nonzero(np.abs(null) >= threshold))
    if exact:
        return hits / null.size
    return (hits + 1) / (null.size + 1)


@overload
def fisher_ci(r: float, n: int, *, confidence: float = 0.95) -> tuple[float, float]: ...
@overload
def fisher_ci(
    r: npt.ArrayLike, n: npt.ArrayLike, *, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]: ...
def fisher_ci(
    r: npt.ArrayLike, n: npt.ArrayLike, *, confidence: float = 0.95
) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    """Confidence interval for a correlation by the Fisher z transformation.

    tanh(atanh(r) ± z_{(1+confidence)/2} / sqrt(n − 3)); assumes approximately bivariate-normal
    data and n independent pairs. For n ≤ 3 the interval is (−1, 1), as in scipy. Works on
    scalars (returns floats) or arrays (broadcast, returns arrays).
    """
    r_array = np.asarray(r, dtype=float)
    n_array = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(1.0 / (n_array - 3.0))
    low, high = _fisher_interval(r_array, se, confidence)
    small = n_array <= 3
    low = np.where(small & ~np.isnan(r_array), -1.0, low)
    high = np.where(small & ~np.isnan(r_array), 1.0, high)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def pearson(x: npt.ArrayLike, y: npt.ArrayLike) -> CorrelationResult:
    """Pearson r over pairwise-complete values with t-test p (df = n − 2) and Fisher-z 95 % CI.

    Assumes independent pairs; n counts complete pairs. Fewer than 3 pairs or a constant input
    give NaN with a warning rather than an error.
    """
    x_complete, y_complete, dropped = _complete_pairs(x, y)
    n = x_complete.size
    r = _centred_r(x_complete, y_complete)
    low, high = fisher_ci(r, n)
    p = float(_two_sided_p(r, n - 2))
    return CorrelationResult(r, p, low, high, n, _sample_warnings(n, r, dropped))


def spearman(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    rng: np.random.Generator | None = None,
    permutations: int = 9999,
    exact_below: int = 100,
) -> CorrelationResult:
    """Spearman ρ (Pearson r of average ranks) over pairwise-complete values.

    p-value: with fewer than ``exact_below`` pairs, a two-sided permutation test of y against x
    (all n! orders when n! ≤ ``permutations``, else ``permutations`` random orders from ``rng``;
    without ``rng`` it falls back to the t approximation and warns "asymptotic_p"); otherwise
    the t approximation with df = n − 2, as scipy. CI: Fisher z with the Fieller et al. (1957)
    standard error sqrt(1.06 / (n − 3)).
    """
    x_complete, y_complete, dropped = _complete_pairs(x, y)
    n = x_complete.size
    x_ranks, y_ranks = stats.rankdata(x_complete), stats.rankdata(y_complete)
    rho = _centred_r(x_ranks, y_ranks)
    warnings = _sample_warnings(n, rho, dropped)
    p = float(_two_sided_p(rho, n - 2))
    if n < exact_below and not math.isnan(rho):
        orders = _permutation_orders(n, permutations, rng)
        if orders is None:
            warnings += ("asymptotic_p",)
        else:
            x_centred, y_centred = x_ranks - x_ranks.mean(), y_ranks - y_ranks.mean()
            scale = math.sqrt((x_centred @ x_centred) * (y_centred @ y_centred))
            p = _permutation_p_value((y_centred[orders[0]] @ x_centred) / scale, rho, orders[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        se = math.sqrt(_FIELLER_VARIANCE / (n - 3)) if n > 3 else math.inf
    low, high = (-1.0, 1.0) if n <= 3 else map(float, _fisher_interval(rho, se, 0.95))
    return CorrelationResult(rho, p, float(low), float(high), n, warnings)
