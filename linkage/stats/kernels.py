"""Compiled per-pair loops over each pair's complete cases (numba), run in parallel over pairs.

With missing cells every (X, Y, lag) has its own complete cases, so its ranks and per-unit
moments cannot be shared with other pairs. In numpy each of those needs a dozen passes over
the whole panel per pair; one compiled walk does the same work in one or two passes, and
pairs are independent, so they spread over the cores numba may use (NUMBA_NUM_THREADS,
default: all). Panels are metrics × units × periods; X at period t pairs with Y at t + lag,
for t in X's period window [start, stop). Compiled once and cached next to this module
(`cache=True`), so only the first call of a fresh installation pays the compilation.
"""

from __future__ import annotations

import threading

import numba
import numpy as np

from .common import BoolArray, FloatArray, IntArray

# numba's default threading layer must not run parallel code from two threads at once (it
# aborts the process); a threaded web server running linkage eagerly could, so callers hold this.
PARALLEL = threading.Lock()

# Compiled code: coverage cannot see inside; every function is tested against scipy.stats
# through linkage_stats (tests/linkage/test_stats_complete_case_spearman.py and others).


@numba.njit(cache=True, nogil=True)
def _x_ranks(
    order: IntArray,
    period: IntArray,
    tied: BoolArray,
    window: tuple[int, int, int],
    y_valid: BoolArray,
    centre: float,
    out: FloatArray,
) -> float:  # pragma: no cover
    """Write X's centred average ranks to ``out`` at its complete cells; return Σ of squares.

    Walks X's sorted present cells (flat units × periods index); cell (u, t) is complete
    when t lies in the window and Y is present at (u, t + lag), i.e. at flat index cell +
    lag. A tie group's complete cells share the mean of their positions among the complete
    cells, as scipy.stats.rankdata's "average" method.
    """
    start_period, stop_period, lag = window
    below = 0
    squares = 0.0
    size = order.size
    start = 0
    while start < size:
        stop = start + 1
        while stop < size and tied[stop]:
            stop += 1
        count = 0
        for position in range(start, stop):
            if start_period <= period[position] < stop_period:
                count += y_valid[order[position] + lag]
        if count:
            rank = below + (count + 1) / 2.0 - centre
            for position in range(start, stop):
                cell = order[position]
                if start_period <= period[position] < stop_period and y_valid[cell + lag]:
                    out[cell] = rank
            squares += count * rank * rank
            below += count
        start = stop
    return squares


@numba.njit(cache=True, nogil=True)
def _y_rank_sums(
    order: IntArray,
    period: IntArray,
    tied: BoolArray,
    window: tuple[int, int, int],
    x_ranks: FloatArray,
    centre: float,
) -> tuple[float, float]:  # pragma: no cover
    """Σ of squared centred Y ranks and Σ of Y rank × X rank over the complete cells.

    Walks Y's sorted present cells; Y at (u, s) is complete when s − lag lies in X's window
    and X's rank at flat index cell − lag is set (NaN marks the cells that are not).
    """
    low, high, lag = window[0] + window[2], window[1] + window[2], window[2]
    below = 0
    squares = 0.0
    cross = 0.0
    size = order.size
    start = 0
    while start < size:
        stop = start + 1
        while stop < size and tied[stop]:
            stop += 1
        count = 0
        partner = 0.0
        for position in range(start, stop):
            if low <= period[position] < high:
                value = x_ranks[order[position] - lag]
                if value == value:
                    count += 1
                    partner += value
        if count:
            rank = below + (count + 1) / 2.0 - centre
            squares += count * rank * rank
            cross += rank * partner
            below += count
        start = stop
    return squares, cross


@numba.njit(cache=True, parallel=True)
def rank_sums_by_pair(
    sorts: tuple[IntArray, IntArray, BoolArray, IntArray],
    valid: BoolArray,
    pairs: tuple[IntArray, IntArray, FloatArray],
    window: tuple[int, int, int],
    scratch: FloatArray,
) -> FloatArray:  # pragma: no cover
    """Σ(rx − m)², Σ(ry − m)² and Σ(rx − m)(ry − m) per pair (3 × pairs) over its complete cases.

    ``sorts``: per metric (rows), its present cells in ascending value order, their periods,
    whether each equals the previous value, and how many there are. ``valid`` is metrics ×
    cells. ``pairs``: X metric, Y metric and number of complete cases n per pair; rx, ry are
    ranks within those n cells (m = (n + 1)/2), so ρ is scipy.stats.spearmanr of the pair's
    complete cases. ``scratch`` has one row of cells per parallel chunk of pairs.
    """
    orders, periods, tied, lengths = sorts
    rows, cols, complete = pairs
    sums = np.empty((3, rows.size))
    chunks = scratch.shape[0]
    for chunk in numba.prange(chunks):
        out = scratch[chunk]
        for pair in range(chunk, rows.size, chunks):
            x, y = rows[pair], cols[pair]
            centre = (complete[pair] + 1.0) / 2.0
            out[:] = np.nan
            x_end, y_end = lengths[x], lengths[y]
            sums[0, pair] = _x_ranks(
                orders[x, :x_end],
                periods[x, :x_end],
                tied[x, :x_end],
                window,
                valid[y],
                centre,
                out,
            )
            sums[1, pair], sums[2, pair] = _y_rank_sums(
                orders[y, :y_end], periods[y, :y_end], tied[y, :y_end], window, out, centre
            )
    return sums


@numba.njit(cache=True, nogil=True)
def _unit_totals(
    x_values: FloatArray,
    y_values: FloatArray,
    x_valid: BoolArray,
    y_valid: BoolArray,
    means: tuple[FloatArray, FloatArray],
    window: tuple[int, int, int],
    totals: FloatArray,
) -> None:  # pragma: no cover
    """Add one pair's 15 totals of `moments._moment_stats` over its complete cells to ``totals``.

    ``x_values``/``y_values`` are units × periods, centred on each unit's mean (the unit
    means, metric-centred, in ``means``). Per unit: n, Σx, Σy, Σx², Σy², Σxy over its
    complete cells, turned into within-unit sums of squares and the unit's means over those
    cells, then summed over units.
    """
    start, stop, lag = window
    for unit in range(x_values.shape[0]):
        n = sx = sy = sxx = syy = sxy = 0.0
        for period in range(start, stop):
            if x_valid[unit, period] and y_valid[unit, period + lag]:
                x = x_values[unit, period]
                y = y_values[unit, period + lag]
                n += 1.0
                sx += x
                sy += y
                sxx += x * x
                syy += y * y
                sxy += x * y
        if n == 0.0:
            continue
        ux = means[0][unit] + sx / n
        uy = means[1][unit] + sy / n
        for index, term in enumerate(
            (
                n,
                1.0,
                sxx - sx * sx / n,
                syy - sy * sy / n,
                sxy - sx * sy / n,
                ux,
                uy,
                ux * ux,
                uy * uy,
                ux * uy,
                n * ux,
                n * uy,
                n * ux * ux,
                n * uy * uy,
                n * ux * uy,
            )
        ):
            totals[index] += term


@numba.njit(cache=True, parallel=True)
def moment_totals_by_pair(
    centred: FloatArray,
    valid: BoolArray,
    unit_means: FloatArray,
    pairs: tuple[IntArray, IntArray],
    window: tuple[int, int, int],
) -> FloatArray:  # pragma: no cover
    """The 15 per-pair totals (15 × pairs) of `moments._moment_stats` over complete cells.

    ``centred``/``valid`` are metrics × units × periods (values centred on each unit's
    mean, 0 where missing); ``unit_means`` metrics × units (metric-centred).
    """
    rows, cols = pairs
    totals = np.zeros((15, rows.size))
    for pair in numba.prange(rows.size):
        x, y = rows[pair], cols[pair]
        _unit_totals(
            centred[x],
            centred[y],
            valid[x],
            valid[y],
            (unit_means[x], unit_means[y]),
            window,
            totals[:, pair],
        )
    return totals
