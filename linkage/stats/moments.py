"""Pooled, within-unit and between-unit correlations of lagged pairs from summed moments."""

from __future__ import annotations

import numpy as np
from scipy import stats

from .common import BoolArray, Float32Array, FloatArray, IntArray, _degenerate, _two_sided_p
from .correlation import fisher_ci
from .kernels import PARALLEL, moment_totals_by_pair
from .lags import _lag_windows, _windows
from .prepared import _Prepared, _WindowCache

_FLOAT32_EXACT_COUNT = 2**24  # float32 holds every integer up to this exactly


def _shifted_cross(
    matrix: FloatArray | Float32Array, periods: int, lag: int
) -> FloatArray | Float32Array:
    """Σ over units and periods t of row_i[u, t] · row_j[u, t + lag], for all row pairs.

    ``matrix`` holds metrics × (units·periods) values, zero where absent. Y at (u, t + lag) sits
    ``lag`` places after X at (u, t) in the flat layout, so one shifted matrix product covers all
    units; the products that wrap into a neighbouring unit are subtracted afterwards.
    """
    size, shift = matrix.shape[1], abs(lag)
    if shift >= periods:
        return np.zeros((matrix.shape[0], matrix.shape[0]))
    cells = matrix.reshape(matrix.shape[0], -1, periods)
    if lag >= 0:
        cross = matrix[:, : size - shift] @ matrix[:, shift:].T
        x_wrap, y_wrap = cells[:, :-1, periods - shift :], cells[:, 1:, :shift]
    else:
        cross = matrix[:, shift:] @ matrix[:, : size - shift].T
        x_wrap, y_wrap = cells[:, 1:, :shift], cells[:, :-1, periods - shift :]
    if shift:
        count = matrix.shape[0]
        cross -= x_wrap.reshape(count, -1) @ y_wrap.reshape(count, -1).T
    return cross


def _complete_sums(cache: _WindowCache, rows: IntArray, cols: IntArray, lag: int) -> FloatArray:
    """Per-pair totals (15 × pairs) when each pair's complete cases are all present X and Y cells.

    Then every unit's n, sums and means are per metric (memoised per window), and the
    pair-specific terms are matrix products over cells or units.
    """
    periods = cache.prep.values.shape[2]
    x_window, y_window = _windows(periods, lag)
    li, rj = np.searchsorted(cache.metrics, rows), np.searchsorted(cache.metrics, cols)
    x, y = cache.unit_sums(x_window), cache.unit_sums(y_window)
    n, ux, uy = x["n"], x["mean"], y["mean"]
    # One product over units gives every X-term × Y-term block needed below.
    count = cache.metrics.size
    left = np.concatenate([x["sum"] / np.maximum(n, 1.0), ux, n, n * ux])
    blocks = (left @ np.concatenate([y["sum"], uy, uy * uy]).T).reshape(4, count, 3, count)
    cross = _shifted_cross(cache.centred_cells, periods, lag) - blocks[0, :, 0]
    terms = [
        n.sum(axis=1)[li],
        (n > 0).sum(axis=1)[li].astype(float),
        x["within"].sum(axis=1)[li],
        y["within"].sum(axis=1)[rj],
        cross[li, rj],
        ux.sum(axis=1)[li],
        uy.sum(axis=1)[rj],
        (ux * ux).sum(axis=1)[li],
        (uy * uy).sum(axis=1)[rj],
        blocks[1, li, 1, rj],
        (n * ux).sum(axis=1)[li],
        blocks[2, li, 1, rj],
        (n * ux * ux).sum(axis=1)[li],
        blocks[2, li, 2, rj],
        blocks[3, li, 1, rj],
    ]
    return np.stack(terms)


def _masked_sums(prep: _Prepared, rows: IntArray, cols: IntArray, lags: list[int]) -> FloatArray:
    """Per lag and pair totals (15 × lags × pairs) over each pair's own complete cells.

    One compiled walk over each pair's cells serves every lag
    (`kernels.moment_totals_by_pair`): per unit, n and the sums over its complete cells,
    reduced to the totals on the way.
    """
    with PARALLEL:
        return moment_totals_by_pair(
            prep.centred,
            prep.valid.astype(np.float32),  # masks multiply: no branch on the data
            prep.unit_means,
            (rows.astype(np.intp), cols.astype(np.intp)),
            _lag_windows(prep.values.shape[2], lags),
        )


def _pair_counts(
    cache: _WindowCache, rows: IntArray, cols: IntArray, lags: list[int]
) -> tuple[FloatArray, BoolArray, BoolArray]:
    """Complete pairs per lag and metric pair (lags × pairs), and whether that equals X's /
    Y's present-cell count in its window.

    Counted by one shifted product of validity masks per lag over the metrics in use, in
    float32 (integer sums below 2**24 are exact) when the panel is small enough; without a
    missing cell every count is the window's.
    """
    periods = cache.prep.values.shape[2]
    cells = cache.valid.shape[1] * periods
    per_period = cache.valid.sum(axis=1)  # metrics × periods
    masks: FloatArray | Float32Array | None = None
    if (per_period < cache.valid.shape[1]).any():
        flat = cache.valid.reshape(cache.metrics.size, -1)
        masks = flat.astype(np.float32) if cells < _FLOAT32_EXACT_COUNT else flat.astype(float)
    li, rj = np.searchsorted(cache.metrics, rows), np.searchsorted(cache.metrics, cols)
    shape = (len(lags), rows.size)
    n_pairs, reuse_x, reuse_y = np.empty(shape), np.empty(shape, bool), np.empty(shape, bool)
    for index, lag in enumerate(lags):
        x_window, y_window = _windows(periods, lag)
        x_count = per_period[:, x_window].sum(axis=1)[li]
        y_count = per_period[:, y_window].sum(axis=1)[rj]
        if masks is None:
            n_pairs[index] = x_count
        else:
            n_pairs[index] = _shifted_cross(masks, periods, lag)[li, rj]
        reuse_x[index], reuse_y[index] = n_pairs[index] == x_count, n_pairs[index] == y_count
    return n_pairs, reuse_x, reuse_y


def _moment_totals(
    cache: _WindowCache, rows: IntArray, cols: IntArray, lags: list[int], complete: BoolArray
) -> FloatArray:
    """Per lag and pair totals (15 × lags × pairs): matrix products for pairs whose complete
    cases are both metrics' present cells (``complete``, lags × pairs), compiled walks over
    all lags at once for the pairs with any other lag."""
    totals = np.zeros((15, len(lags), rows.size))
    masked = ~complete.all(axis=0)
    if masked.any():
        totals[:, :, masked] = _masked_sums(cache.prep, rows[masked], cols[masked], lags)
    for index, lag in enumerate(lags):
        chosen = complete[index] & ~masked
        if chosen.any():
            totals[:, index, chosen] = _complete_sums(cache, rows[chosen], cols[chosen], lag)
    return totals


def _correlation_from_sums(
    sxy: FloatArray, sxx: FloatArray, syy: FloatArray, unusable: BoolArray
) -> FloatArray:
    """r = Sxy / sqrt(Sxx·Syy), NaN where flagged unusable."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.clip(sxy / np.sqrt(sxx * syy), -1.0, 1.0)
    return np.where(unusable, np.nan, r)


def _moment_stats(
    totals: FloatArray, scale_x: FloatArray, scale_y: FloatArray
) -> dict[str, FloatArray]:
    """Pooled, within-unit (repeated-measures) and between-unit statistics from per-pair totals.

    Pooled: all pairs, inference with n = units. Within: deviations from each unit's mean over
    its complete pairs, df = N − K − 1 (Bakdash & Marusich 2017). Between: unit means, n = K.
    """
    n, k, wxx, wyy, wxy, bx, by, bxx, byy, bxy, nx, ny, nxx, nyy, nxy = totals
    safe_n, safe_k, df_within = np.maximum(n, 1), np.maximum(k, 1), n - k - 1
    txx, tyy = wxx + nxx - nx * nx / safe_n, wyy + nyy - ny * ny / safe_n
    cxx, cyy = bxx - bx * bx / safe_k, byy - by * by / safe_k
    flat = _degenerate(txx, n, scale_x) | _degenerate(tyy, n, scale_y)
    flat_within = _degenerate(wxx, n, scale_x) | _degenerate(wyy, n, scale_y) | (df_within < 1)
    flat_between = _degenerate(cxx, k, scale_x) | _degenerate(cyy, k, scale_y) | (k < 3)
    pooled_xy = wxy + nxy - nx * ny / safe_n
    r = _correlation_from_sums(pooled_xy, txx, tyy, flat | (n < 3))
    within_r = _correlation_from_sums(wxy, wxx, wyy, flat_within)
    between_r = _correlation_from_sums(bxy - bx * by / safe_k, cxx, cyy, flat_between)
    low, high = fisher_ci(r, k)
    return {
        "n_pairs": n,
        "n_units": k,
        "r": r,
        "p": _two_sided_p(r, k - 2),
        "r_low": low,
        "r_high": high,
        "within_r": within_r,
        "within_p": _two_sided_p(within_r, df_within),
        "between_r": between_r,
        "between_p": _two_sided_p(between_r, k - 2),
        **_within_slope(wxx, wyy, wxy, df_within, flat_within),
        "flat": flat,
        "flat_within": flat_within,
        "flat_between": flat_between,
    }


def _within_slope(
    wxx: FloatArray, wyy: FloatArray, wxy: FloatArray, df: FloatArray, unusable: BoolArray
) -> dict[str, FloatArray]:
    """Fixed-effects (unit dummies) slope of y on x with its 95 % t interval, df = N − K − 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(unusable, np.nan, wxy / wxx)
        residual = np.maximum(wyy - slope * wxy, 0.0)
        half = stats.t.ppf(0.975, np.maximum(df, 1)) * np.sqrt(residual / np.maximum(df, 1) / wxx)
    return {
        "slope_within": slope,
        "slope_within_low": slope - half,
        "slope_within_high": slope + half,
    }
