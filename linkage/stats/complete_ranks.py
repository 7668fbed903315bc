"""Pooled Spearman ρ over each pair's own complete cases, ranked in batches (no per-pair sort).

With missing cells every (X, Y, lag) has its own complete cases, so both sides need ranks
over a subset of their present cells. A metric's window cells are sorted once; the ranks of
any subset follow from a running count of the subset's members along that order (ties take
the average of their positions, as scipy.stats.rankdata). All partners of one metric are
ranked at once as rows of a 2-D cumulative count, then scattered to the lag-aligned frame
(units × window periods, flattened) where the two sides of a pair meet in one dot product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .common import BoolArray, FloatArray, IntArray
from .lags import _windows
from .moments import _correlation_from_sums
from .prepared import _WindowCache

_RANK_SS_FLOOR = 1e-6  # below any Σ(rank − mean)² of a non-constant ranking (≥ 1/8)
_CHUNK_ELEMENTS = 4_000_000  # bound on pairs × aligned cells held as float ranks at once


@dataclass(frozen=True)
class _WindowOrder:
    """A metric's present cells in one period window, in ascending value order."""

    cells: IntArray  # aligned-frame index (unit · window length + period offset) of each
    starts: IntArray | None  # per sorted cell: position of its tie group's first member
    stops: IntArray | None  # per sorted cell: one past its tie group's last member


def _window_order(cache: _WindowCache, metric: int, window: slice) -> _WindowOrder:
    """The metric's window order, memoised per call (derived from the one cached full sort)."""
    key = (metric, window.start, window.stop)
    if key not in cache.window_orders:
        sort = cache.caches[metric]
        periods = sort.shape[1]
        inside = (sort.period >= window.start) & (sort.period < window.stop) & sort.present
        order = sort.order[inside]
        cells = (order // periods) * (window.stop - window.start) + sort.period[inside]
        cells -= window.start
        groups = sort.groups[inside]
        starts = stops = None
        if groups.size and (groups[1:] == groups[:-1]).any():
            first = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
            sizes = np.diff(np.concatenate([first, [groups.size]]))
            starts = np.repeat(first, sizes)
            stops = starts + np.repeat(sizes, sizes)
        cache.window_orders[key] = _WindowOrder(cells.astype(np.intp), starts, stops)
    return cache.window_orders[key]


def _centred_subset_ranks(order: _WindowOrder, members: BoolArray) -> tuple[FloatArray, FloatArray]:
    """Centred average ranks of each row's member cells (rows × sorted cells, 0 elsewhere).

    ``members`` says, per row and in sorted order, which cells form that row's subset.
    Returns the centred ranks (rank − (n + 1)/2 inside the subset, 0 outside) and each row's
    Σ of their squares.
    """
    running = np.cumsum(members, axis=1, dtype=np.int32)  # exact below 2**31 cells
    if order.starts is None:
        ranks = running.astype(float)
    else:
        padded = np.concatenate([np.zeros((members.shape[0], 1), np.int32), running], axis=1)
        below = padded[:, order.starts]
        ranks = below + (padded[:, order.stops] - below + 1) / 2.0
    ranks -= (running[:, -1:] + 1) / 2.0
    ranks *= members
    return ranks, np.einsum("ij,ij->i", ranks, ranks)


def _scattered_ranks(
    cache: _WindowCache, metrics: IntArray, window: slice, mask: BoolArray, out: FloatArray
) -> FloatArray:
    """Fill ``out`` (pairs × aligned cells) with each pair's centred complete-case ranks of X.

    ``metrics`` is X's metric per pair and ``mask`` each pair's complete cases in the aligned
    frame; pairs sharing a metric are ranked together. Returns each pair's Σ of squares.
    """
    sums = np.empty(metrics.size)
    out.fill(0.0)
    for metric in np.unique(metrics):
        batch = np.flatnonzero(metrics == metric)
        order = _window_order(cache, int(metric), window)
        ranks, sums[batch] = _centred_subset_ranks(order, np.take(mask[batch], order.cells, 1))
        for row, pair in enumerate(batch):
            out[pair, order.cells] = ranks[row]
    return sums


def _paired_ranks(
    cache: _WindowCache, metrics: IntArray, window: slice, mask: BoolArray, x_ranks: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Each pair's Σ of squared centred Y ranks, and Σ of X rank × Y rank over its cells.

    Y ranks stay in Y's sorted order; X's (scattered to the aligned frame) are read there.
    """
    sums, cross = np.empty(metrics.size), np.empty(metrics.size)
    for metric in np.unique(metrics):
        batch = np.flatnonzero(metrics == metric)
        order = _window_order(cache, int(metric), window)
        ranks, sums[batch] = _centred_subset_ranks(order, np.take(mask[batch], order.cells, 1))
        partner = np.take(x_ranks[batch], order.cells, 1)
        cross[batch] = np.einsum("ij,ij->i", ranks, partner)
    return sums, cross


def _complete_case_spearman(
    cache: _WindowCache, rows: IntArray, cols: IntArray, lag: int
) -> FloatArray:
    """Pooled Spearman ρ per pair at one lag over each pair's complete cases.

    Equal to scipy.stats.spearmanr on the pair's complete (X at t, Y at t + lag) cells; NaN
    for fewer than 3 complete pairs or a constant side.
    """
    prep = cache.prep
    x_window, y_window = _windows(prep.values.shape[2], lag)
    metrics = prep.values.shape[0]
    x_valid = prep.valid[:, :, x_window].reshape(metrics, -1)
    y_valid = prep.valid[:, :, y_window].reshape(metrics, -1)
    size = x_valid.shape[1]
    rho = np.full(rows.size, np.nan)
    step = max(1, _CHUNK_ELEMENTS // max(size, 1))
    x_ranks = np.empty((min(step, rows.size), size))
    for start in range(0, rows.size, step):
        part = slice(start, min(start + step, rows.size))
        count = part.stop - part.start
        mask = x_valid[rows[part]] & y_valid[cols[part]]
        x_ss = _scattered_ranks(cache, rows[part], x_window, mask, x_ranks[:count])
        y_ss, cross = _paired_ranks(cache, cols[part], y_window, mask, x_ranks[:count])
        unusable = (x_ss < _RANK_SS_FLOOR) | (y_ss < _RANK_SS_FLOOR) | (mask.sum(axis=1) < 3)
        rho[part] = _correlation_from_sums(cross, x_ss, y_ss, unusable)
    return rho
