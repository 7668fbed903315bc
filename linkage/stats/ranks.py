"""Pooled Spearman ρ of lagged pairs and its permutation test over whole units."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .common import BoolArray, FloatArray, IntArray, _two_sided_p
from .complete_ranks import _RANK_SS_FLOOR, _complete_case_spearman
from .correlation import _permutation_orders, _permutation_p_value
from .lags import _windows
from .moments import _correlation_from_sums
from .prepared import _Prepared, _WindowCache


def _spearman_by_lag(
    cache: _WindowCache,
    rows: IntArray,
    cols: IntArray,
    lags: list[int],
    counts: tuple[FloatArray, BoolArray, BoolArray],
) -> FloatArray:
    """Pooled Spearman ρ per lag and pair (lags × pairs), ranking each pair's complete cases.

    ``counts`` is (complete pairs, mask equals X's present cells, mask equals Y's present
    cells), each lags × pairs. Pairs whose mask equals both reuse the memoised ranks and
    share one matmul per lag; the rest are ranked over their own complete cases, all lags
    in one compiled walk per pair (`complete_ranks`).
    """
    n_pairs, reuse_x, reuse_y = counts
    rho = np.full(n_pairs.shape, np.nan)
    shared = reuse_x & reuse_y & (n_pairs >= 3)
    for index, lag in enumerate(lags):
        if shared[index].any():
            chosen = shared[index]
            rho[index, chosen] = _shared_rank_correlations(cache, rows[chosen], cols[chosen], lag)
    own = ~shared & (n_pairs >= 3)
    walked = own.any(axis=0)
    if walked.any():
        ranked = _complete_case_spearman(
            cache, rows[walked], cols[walked], lags, n_pairs[:, walked]
        )
        rho[:, walked] = np.where(own[:, walked], ranked, rho[:, walked])
    return rho


def _shared_rank_correlations(
    cache: _WindowCache, rows: IntArray, cols: IntArray, lag: int
) -> FloatArray:
    """ρ for pairs whose complete cases equal both metrics' present cells: one matmul of ranks.

    Rank rows are zero outside their window, so the flat shifted product pairs (u, t) with
    (u, t + lag) and never crosses units.
    """
    x_window, y_window = _windows(cache.prep.values.shape[2], lag)
    x_matrix, x_ss = cache.centred_matrix(x_window)
    y_matrix, y_ss = cache.centred_matrix(y_window)
    size, shift = x_matrix.shape[1], abs(lag)
    if lag >= 0:
        cross = x_matrix[:, : size - shift] @ y_matrix[:, shift:].T
    else:
        cross = x_matrix[:, shift:] @ y_matrix[:, : size - shift].T
    li, rj = np.searchsorted(cache.metrics, rows), np.searchsorted(cache.metrics, cols)
    unusable = (x_ss[li] < _RANK_SS_FLOOR) | (y_ss[rj] < _RANK_SS_FLOOR)
    return _correlation_from_sums(cross[li, rj], x_ss[li], y_ss[rj], unusable)


def _rowwise_centred(values: FloatArray) -> FloatArray:
    """Each row minus its mean over present (non-NaN) cells, with 0 in absent cells."""
    present = np.isfinite(values)
    filled = np.where(present, values, 0.0)
    count = np.maximum(present.sum(axis=1, keepdims=True), 1)
    return np.where(present, filled - filled.sum(axis=1, keepdims=True) / count, 0.0)


def _rowwise_rank_correlation(x: FloatArray, y: FloatArray) -> FloatArray:
    """Spearman ρ of each row of x with the same row of y (both NaN outside the same cells)."""
    x_centred = _rowwise_centred(stats.rankdata(x, axis=1, nan_policy="omit"))
    y_centred = _rowwise_centred(stats.rankdata(y, axis=1, nan_policy="omit"))
    x_ss = np.einsum("ij,ij->i", x_centred, x_centred)
    y_ss = np.einsum("ij,ij->i", y_centred, y_centred)
    unusable = (x_ss < _RANK_SS_FLOOR) | (y_ss < _RANK_SS_FLOOR) | (np.isfinite(x).sum(1) < 3)
    return _correlation_from_sums(np.einsum("ij,ij->i", x_centred, y_centred), x_ss, y_ss, unusable)


def _cluster_permutation_p(
    x_window: FloatArray,
    y_window: FloatArray,
    observed: float,
    rng: np.random.Generator,
    permutations: int,
) -> float:
    """Two-sided permutation p for pooled ρ, permuting whole units of Y against X.

    Only units with at least one complete pair take part; each permutation gives unit u the Y
    series of another unit, re-forms the complete cases and re-ranks them. Exact when K! is
    at most ``permutations``.
    """
    both = np.isfinite(x_window) & np.isfinite(y_window)
    x_units, y_units = x_window[both.any(axis=1)], y_window[both.any(axis=1)]
    drawn = _permutation_orders(x_units.shape[0], permutations, rng)
    if drawn is None:
        return math.nan
    orders, exact = drawn
    shuffled = y_units[orders]
    mask = np.isfinite(shuffled) & np.isfinite(x_units)[None]
    flat_x = np.where(mask, x_units[None], np.nan).reshape(len(orders), -1)
    flat_y = np.where(mask, shuffled, np.nan).reshape(len(orders), -1)
    null = _rowwise_rank_correlation(flat_x, flat_y)
    return _permutation_p_value(np.nan_to_num(null, nan=0.0), observed, exact)


def _lag_spearman_p(
    prep: _Prepared,
    rows: IntArray,
    cols: IntArray,
    lag: int,
    result: dict[str, FloatArray],
    rng: np.random.Generator,
    permutations: int,
    permutation_below: int,
) -> FloatArray:
    """Spearman p per pair: unit permutation below ``permutation_below`` pairs, else t (n = K)."""
    rho = result["spearman"]
    p = _two_sided_p(rho, result["n_units"] - 2)
    x_window, y_window = _windows(prep.values.shape[2], lag)
    small = (result["n_pairs"] < permutation_below) & (result["n_units"] >= 3) & np.isfinite(rho)
    for index in np.flatnonzero(small):
        x_part = prep.values[rows[index]][:, x_window]
        y_part = prep.values[cols[index]][:, y_window]
        p[index] = _cluster_permutation_p(x_part, y_part, rho[index], rng, permutations)
    return p
