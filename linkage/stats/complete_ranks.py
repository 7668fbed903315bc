"""Pooled Spearman ρ over each pair's own complete cases, every lag in one compiled pass.

With missing cells every (X, Y, lag) has its own complete cases, so both sides need ranks
over a subset of their present cells. Each metric's panel is sorted once per call; the
ranks of any subset then follow from one walk along that order counting the subset's
members (ties take the average of their positions, as scipy.stats.rankdata). Per metric,
one byte per cell says at which lags the cell has a partner (`kernels.partner_bits`), so
each pair's X walk and Y walk rank all lags at once and scatter the ranks into scratch rows;
the cross term is their sequential product (`kernels.rank_sums_by_pair`).
"""

from __future__ import annotations

import numba
import numpy as np

from .common import BoolArray, FloatArray, IntArray
from .kernels import PARALLEL, partner_bits, rank_sums_by_pair
from .moments import _correlation_from_sums
from .prepared import _WindowCache

_RANK_SS_FLOOR = 1e-6  # below any Σ(rank − mean)² of a non-constant ranking (≥ 1/8)
# Centred ranks are multiples of 1/2 below n/2 in size: exact in float32 up to 2**23 cells,
# which halves the scratch memory the per-pair walks write and the cross term reads.
_FLOAT32_EXACT_CELLS = 2**23
# Per-thread scratch holds every lag's ranks of a cell side by side, for X and for Y; past
# this size the lags are split into batches (10,000 units × 24 periods × 5 lags: 9.6 MB).
_SCRATCH_BYTES = 64 * 2**20


def _present_sorts(cache: _WindowCache) -> tuple[IntArray, BoolArray, IntArray]:
    """Per metric (rows, padded): present cells in ascending value order (flat units ×
    periods index), whether each equals the previous value, and their count. Built once per
    call from the cached full sorts."""
    if "present" not in cache.window_orders:
        metrics, cells = cache.prep.values.shape[0], cache.prep.values[0].size
        orders = np.zeros((metrics, cells), dtype=np.intp)
        tied = np.zeros((metrics, cells), dtype=bool)
        lengths = np.zeros(metrics, dtype=np.intp)
        for metric, sort in cache.caches.items():
            present = int(sort.present.sum())  # NaN sorts last
            groups = sort.groups[:present]
            orders[metric, :present] = sort.order[:present]
            tied[metric, 1:present] = groups[1:] == groups[:-1]
            lengths[metric] = present
        cache.window_orders["present"] = (orders, tied, lengths)
    return cache.window_orders["present"]


def _complete_case_spearman(
    cache: _WindowCache, rows: IntArray, cols: IntArray, lags: list[int], complete: FloatArray
) -> FloatArray:
    """Pooled Spearman ρ per lag and pair (lags × pairs) over each pair's complete cases.

    ``complete`` is each pair's number of complete cases per lag (lags × pairs). Equal to
    scipy.stats.spearmanr on the pair's complete (X at t, Y at t + lag) cells; NaN for fewer
    than 3 complete pairs or a constant side. Lags go to the compiled walks in batches of at
    most 8, fewer when the scratch (cells × batch per thread) would pass `_SCRATCH_BYTES`.
    """
    prep = cache.prep
    size = prep.values[0].size
    chunks = min(numba.get_num_threads(), rows.size)
    dtype = np.float32 if size < _FLOAT32_EXACT_CELLS else np.float64
    batch = _SCRATCH_BYTES // (2 * chunks * size * np.dtype(dtype).itemsize)
    batch = min(max(1, batch), 8)
    sorts = _present_sorts(cache)
    pairs = (rows.astype(np.intp), cols.astype(np.intp))
    sums = np.empty((3, len(lags), rows.size))
    for first in range(0, len(lags), batch):
        part = lags[first : first + batch]
        scratch = np.empty((chunks, 2, size * len(part)), dtype=dtype)
        with PARALLEL:
            sums[:, first : first + len(part)] = rank_sums_by_pair(
                sorts,
                partner_bits(prep.valid, np.array(part, dtype=np.intp)),
                (*pairs, complete[first : first + len(part)].astype(float)),
                np.array(part, dtype=np.intp),
                scratch,
            )
    x_ss, y_ss, cross = sums
    unusable = (x_ss < _RANK_SS_FLOOR) | (y_ss < _RANK_SS_FLOOR) | (complete < 3)
    return _correlation_from_sums(cross, x_ss, y_ss, unusable)
