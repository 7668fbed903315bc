"""Compiled per-pair loops over each pair's complete cases (numba), run in parallel over pairs.

With missing cells every (X, Y, lag) has its own complete cases, so its ranks and per-unit
moments cannot be shared with other pairs. In numpy each of those needs a dozen passes over
the whole panel per pair; one compiled walk does the same work in one or two passes, and
pairs are independent, so they spread over the cores numba may use (NUMBA_NUM_THREADS,
default: all). Panels are metrics × units × periods; X at period t pairs with Y at t + lag,
for t in X's period window [start, stop). Every walk serves all of a call's lags at once:
the lags differ only in which neighbouring cell is the partner, so a cell's data is read
once for all of them. The rank walks are bound by scattered memory access, so each side
only scatters its ranks (all lags of a cell on one cache line) and the cross term is a
sequential product afterwards. Compiled once and cached next to this module
(`cache=True`), so only the first call of a fresh installation pays the compilation.
"""

from __future__ import annotations

import threading

import numba
import numpy as np

from .common import BoolArray, Float32Array, FloatArray, IntArray, UInt8Array

# numba's default threading layer must not run parallel code from two threads at once (it
# aborts the process); a threaded web server running linkage eagerly could, so callers hold this.
PARALLEL = threading.Lock()

# Compiled code: coverage cannot see inside; every function is tested against scipy.stats
# through linkage_stats (tests/linkage/test_stats_complete_case_spearman.py and others).


# Cells walked per block: each block's rank lines stay in L1/L2 while its lags are ranked one
# after the other, and the per-lag counters live in registers (not in arrays the stores to
# ``out`` might alias).
_BLOCK = 1024


@numba.njit(cache=True, nogil=True)
def _complete_ranks(
    order: IntArray,
    tied: BoolArray,
    partner_bits: UInt8Array,
    centres: FloatArray,
    out: FloatArray,
) -> FloatArray:  # pragma: no cover
    """Write one side's centred average ranks per lag to ``out``; return Σ of squares per lag.

    Walks the side's sorted present cells (flat units × periods index); bit j of
    ``partner_bits[cell]`` says whether the cell is complete at lag index j (inside the
    lag's window, the other side present at its partner cell). The rank lands at
    ``out[cell * lags + j]``, 0 when not complete, so one cell's ranks share a cache line;
    a block of cells is ranked for every lag before the next, so each line comes from
    memory once. A tie group's complete cells share the mean of their positions among the
    complete cells, as scipy.stats.rankdata's "average" method.
    """
    lags = centres.size
    belows = np.zeros(lags)
    sums = np.zeros(lags)
    size = order.size
    block_start = 0
    while block_start < size:
        block_stop = min(block_start + _BLOCK, size)
        while block_stop < size and tied[block_stop]:  # a tie group stays in one block
            block_stop += 1
        untied = True
        for position in range(block_start + 1, block_stop):
            untied &= not tied[position]
        for j in range(lags):
            if untied:  # every rank is below + 1: arithmetic only, no branch on the data
                below, offset = np.intp(belows[j]), 1.0 - centres[j]
                # Two sums of squares halve the chain of dependent additions; each holds
                # multiples of 1/4, exact below 2**51, so the split changes no result.
                even = odd = 0.0
                for position in range(block_start, block_stop - 1, 2):
                    cell, other = order[position], order[position + 1]
                    complete = (partner_bits[cell] >> j) & 1
                    rank = below + offset
                    out[cell * lags + j] = rank * complete
                    even += rank * rank * complete
                    below += complete
                    complete = (partner_bits[other] >> j) & 1
                    rank = below + offset
                    out[other * lags + j] = rank * complete
                    odd += rank * rank * complete
                    below += complete
                if (block_stop - block_start) % 2:
                    cell = order[block_stop - 1]
                    complete = (partner_bits[cell] >> j) & 1
                    rank = below + offset
                    out[cell * lags + j] = rank * complete
                    even += rank * rank * complete
                    below += complete
                belows[j], sums[j] = below, sums[j] + (even + odd)
            else:
                belows[j], sums[j] = _tied_block(
                    order[block_start:block_stop],
                    tied[block_start:block_stop],
                    partner_bits,
                    (j, lags, centres[j]),
                    (belows[j], sums[j]),
                    out,
                )
        block_start = block_stop
    return sums


@numba.njit(cache=True, nogil=True)
def _tied_block(
    order: IntArray,
    tied: BoolArray,
    partner_bits: UInt8Array,
    lag: tuple[int, int, float],
    totals: tuple[float, float],
    out: FloatArray,
) -> tuple[float, float]:  # pragma: no cover
    """`_complete_ranks` for one lag over a block with tie groups: the complete cells of a
    group share its mean position. ``lag``: lag index, number of lags, centre; ``totals``:
    complete cells before the block and Σ of squares so far, returned updated."""
    j, lags, centre = lag
    below, squares = totals
    start = 0
    while start < order.size:
        stop = start + 1
        while stop < order.size and tied[stop]:
            stop += 1
        count = 0
        for position in range(start, stop):
            count += (partner_bits[order[position]] >> j) & 1
        rank = below + (count + 1) / 2.0 - centre
        for position in range(start, stop):
            cell = order[position]
            out[cell * lags + j] = rank * ((partner_bits[cell] >> j) & 1)
        squares += count * rank * rank
        below += count
        start = stop
    return below, squares


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _shifted_products(
    x_ranks: FloatArray, y_ranks: FloatArray, lags: IntArray
) -> FloatArray:  # pragma: no cover
    """Σ over cells of X's rank at (cell, j) × Y's rank at (cell + lags[j], j), per lag index j.

    Ranks are 0 off each side's complete cells, so only complete pairs count. Both arrays
    are read in order, a block of cells for every lag at a time. The sum may be reordered
    (fastmath "reassoc"): products of centred ranks are multiples of 1/4, so their sums are
    exact in any order up to 2**51.
    """
    count = lags.size
    cells = x_ranks.size // count
    cross = np.zeros(count)
    for block in range(0, cells, _BLOCK):
        for j in range(count):
            lag = lags[j]
            total = cross[j]
            for cell in range(max(block, -lag), min(block + _BLOCK, cells - lag)):
                # float64 product: float32 ranks would round it
                total += np.float64(x_ranks[cell * count + j]) * y_ranks[(cell + lag) * count + j]
            cross[j] = total
    return cross


@numba.njit(cache=True, parallel=True)
def rank_sums_by_pair(
    sorts: tuple[IntArray, BoolArray, IntArray],
    partner_bits: tuple[UInt8Array, UInt8Array],
    pairs: tuple[IntArray, IntArray, FloatArray],
    lags: IntArray,
    scratch: FloatArray,
) -> FloatArray:  # pragma: no cover
    """Σ(rx − m)², Σ(ry − m)² and Σ(rx − m)(ry − m) (3 × lags × pairs) over complete cases.

    ``sorts``: per metric (rows), its present cells in ascending value order, whether each
    equals the previous value, and how many there are. ``partner_bits``: per metric and
    cell, bit j set where the metric is present at the partner cell of lag ``lags[j]``
    inside the window, once as Y (for X's walk: cell + lag) and once as X (for Y's walk:
    cell − lag). ``pairs``: X metric, Y metric and number of complete cases n per lag and
    pair (lags × pairs). rx, ry are ranks within those n cells (m = (n + 1)/2), so ρ is
    scipy.stats.spearmanr of the pair's complete cases. Each side's walk only scatters its
    ranks (the bits it reads stay in cache); the cross term is then a sequential product.
    ``scratch`` holds two rows of cells × lags per parallel chunk.
    """
    orders, tied, lengths = sorts
    as_y, as_x = partner_bits
    rows, cols, complete = pairs
    sums = np.zeros((3, lags.size, rows.size))
    chunks = scratch.shape[0]
    for chunk in numba.prange(chunks):
        x_out, y_out = scratch[chunk, 0], scratch[chunk, 1]
        for pair in range(chunk, rows.size, chunks):
            x, y = rows[pair], cols[pair]
            centres = (complete[:, pair] + 1.0) / 2.0
            x_out[:] = 0.0
            y_out[:] = 0.0
            x_end, y_end = lengths[x], lengths[y]
            sums[0, :, pair] = _complete_ranks(
                orders[x, :x_end], tied[x, :x_end], as_y[y], centres, x_out
            )
            sums[1, :, pair] = _complete_ranks(
                orders[y, :y_end], tied[y, :y_end], as_x[x], centres, y_out
            )
            sums[2, :, pair] = _shifted_products(x_out, y_out, lags)
    return sums


@numba.njit(cache=True, nogil=True)
def _unit_totals(
    x_values: FloatArray,
    y_values: FloatArray,
    x_valid: Float32Array,
    y_valid: Float32Array,
    means: tuple[FloatArray, FloatArray],
    windows: IntArray,
) -> FloatArray:  # pragma: no cover
    """One pair's 15 totals of `moments._moment_stats` per lag (15 × lags) over complete cells.

    ``x_values``/``y_values`` are units × periods, centred on each unit's mean (the unit
    means, metric-centred, in ``means``), with 0/1 presence masks; ``windows`` per lag:
    X's period window start, stop and the lag. Per unit and lag: n, Σx, Σy, Σx², Σy², Σxy
    over its complete cells, turned into within-unit sums of squares and the unit's means
    over those cells, then summed over units.
    """
    totals = np.zeros((15, windows.shape[0]))
    for j in range(windows.shape[0]):
        start, stop, lag = windows[j, 0], windows[j, 1], windows[j, 2]
        # Per-lag totals in registers (a store per unit and term would cost more than the sums).
        t_n = t_k = t_wxx = t_wyy = t_wxy = t_bx = t_by = t_bxx = t_byy = t_bxy = 0.0
        t_nx = t_ny = t_nxx = t_nyy = t_nxy = 0.0
        for unit in range(x_values.shape[0]):
            n = sx = sy = sxx = syy = sxy = 0.0
            for period in range(start, stop):
                # Absent cells hold 0 and masks are 0/1, so products add exact zeros where
                # skipping them would add nothing: the same sums, without a branch on the data.
                x, y = x_values[unit, period], y_values[unit, period + lag]
                x_in, y_in = x_valid[unit, period], y_valid[unit, period + lag]
                n += x_in * y_in
                sx += x * y_in
                sy += y * x_in
                sxx += x * x * y_in
                syy += y * y * x_in
                sxy += x * y
            if n == 0.0:
                continue
            ux = means[0][unit] + sx / n
            uy = means[1][unit] + sy / n
            t_n += n
            t_k += 1.0
            t_wxx += sxx - sx * sx / n
            t_wyy += syy - sy * sy / n
            t_wxy += sxy - sx * sy / n
            t_bx += ux
            t_by += uy
            t_bxx += ux * ux
            t_byy += uy * uy
            t_bxy += ux * uy
            t_nx += n * ux
            t_ny += n * uy
            t_nxx += n * ux * ux
            t_nyy += n * uy * uy
            t_nxy += n * ux * uy
        terms = (t_n, t_k, t_wxx, t_wyy, t_wxy, t_bx, t_by, t_bxx, t_byy, t_bxy)
        for index, total in enumerate(terms + (t_nx, t_ny, t_nxx, t_nyy, t_nxy)):
            totals[index, j] = total
    return totals


@numba.njit(cache=True, parallel=True)
def moment_totals_by_pair(
    centred: FloatArray,
    valid: Float32Array,
    unit_means: FloatArray,
    pairs: tuple[IntArray, IntArray],
    windows: IntArray,
) -> FloatArray:  # pragma: no cover
    """The 15 totals of `moments._moment_stats` per lag and pair (15 × lags × pairs).

    ``centred``/``valid`` are metrics × units × periods (values centred on each unit's
    mean, 0 where missing; 1 where present, else 0); ``unit_means`` metrics × units
    (metric-centred); ``windows`` as in `_unit_totals`.
    """
    rows, cols = pairs
    totals = np.zeros((15, windows.shape[0], rows.size))
    for pair in numba.prange(rows.size):
        x, y = rows[pair], cols[pair]
        totals[:, :, pair] = _unit_totals(
            centred[x],
            centred[y],
            valid[x],
            valid[y],
            (unit_means[x], unit_means[y]),
            windows,
        )
    return totals


@numba.njit(cache=True, parallel=True)
def partner_bits(
    valid: BoolArray, lags: IntArray
) -> tuple[UInt8Array, UInt8Array]:  # pragma: no cover
    """Per metric and flat cell, bit j set where the cell has a partner at lag ``lags[j]``.

    ``valid`` is metrics × units × periods, at most 8 lags. First as Y: X at (u, t), t in
    lag j's window, pairs with this metric present at (u, t + lag). Then as X: Y at (u, s)
    pairs with this metric present at (u, s − lag).
    """
    metrics, units, periods = valid.shape
    as_y = np.zeros((metrics, units * periods), dtype=np.uint8)
    as_x = np.zeros((metrics, units * periods), dtype=np.uint8)
    for metric in numba.prange(metrics):
        for unit in range(units):
            for period in range(periods):
                y_bits = x_bits = 0
                for j in range(lags.size):
                    later, earlier = period + lags[j], period - lags[j]
                    if 0 <= later < periods:
                        y_bits |= valid[metric, unit, later] << j
                    if 0 <= earlier < periods:
                        x_bits |= valid[metric, unit, earlier] << j
                as_y[metric, unit * periods + period] = y_bits
                as_x[metric, unit * periods + period] = x_bits
    return as_y, as_x
