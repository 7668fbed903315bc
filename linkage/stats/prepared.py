"""A run's panels prepared once per call: unit-centred cells, per-window sums and ranks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from .common import BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class _Prepared:
    """A run's panels with the centred copies the vectorised engine works on."""

    values: FloatArray  # metrics × units × periods, as given
    valid: BoolArray  # metrics × units × periods
    centred: FloatArray  # metrics × units × periods: value − unit mean, 0 where missing
    unit_means: FloatArray  # metrics × units, unit mean − metric mean (0 for empty units)
    scale: FloatArray  # metrics, largest |value|


@dataclass(frozen=True)
class _RankCache:
    """One sort of a metric's whole panel, reused to rank any subset of its cells in O(n)."""

    order: IntArray  # cell indexes (units·periods, row-major) in ascending value, NaN last
    groups: IntArray  # tie-group label of each sorted cell
    n_groups: int
    period: IntArray  # period of each sorted cell
    present: BoolArray  # whether each sorted cell holds a value
    shape: tuple[int, int]  # units, periods


def _prepare(panels: npt.ArrayLike) -> _Prepared:
    """Validate the stacked panels and centre each metric on its unit means (for precision)."""
    values = np.asarray(panels, dtype=float)
    if values.ndim != 3:
        raise ValueError("panels must be a metrics × units × periods array")
    valid = np.isfinite(values)
    counts = valid.sum(axis=2)
    filled = np.where(valid, values, 0.0)
    metric_mean = filled.sum(axis=(1, 2)) / np.maximum(counts.sum(axis=1), 1)
    unit_means = filled.sum(axis=2) / np.maximum(counts, 1) - metric_mean[:, None]
    unit_means[counts == 0] = 0.0
    filled -= (unit_means + metric_mean[:, None])[:, :, None]
    filled[~valid] = 0.0
    scale = np.abs(np.where(valid, values, 0.0)).max(axis=(1, 2), initial=0.0)
    return _Prepared(values, valid, filled, unit_means, scale)


def _rank_cache(values: FloatArray) -> _RankCache:
    """Sort a metric's units × periods cells once (NaN last) and label runs of tied values."""
    flat = values.ravel()
    present = np.isfinite(flat)
    finite = np.flatnonzero(present)
    # Sorting only the present values is faster than letting argsort place the NaNs.
    order = np.concatenate([finite[np.argsort(flat[finite])], np.flatnonzero(~present)])
    ordered = flat[order]
    groups = np.cumsum(np.concatenate([[False], ordered[1:] != ordered[:-1]]))
    period = (order % values.shape[1]).astype(np.min_scalar_type(-values.shape[1]))
    return _RankCache(
        order=order,
        groups=groups,
        n_groups=int(groups[-1]) + 1 if flat.size else 0,
        period=period,
        present=np.isfinite(ordered),
        shape=(values.shape[0], values.shape[1]),
    )


def _rank_caches(values: FloatArray) -> list[_RankCache]:
    """`_rank_cache` of each metric (first axis), sorted on numba's number of threads: numpy
    releases the GIL while it sorts, and the sorts are a tenth of a linkage call."""
    threads = min(numba.get_num_threads(), values.shape[0])
    if threads < 2:
        return [_rank_cache(metric) for metric in values]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(_rank_cache, values))


def _subset_ranks(cache: _RankCache, window: slice, *, out: FloatArray | None = None) -> FloatArray:
    """Average ranks (ties averaged, as scipy.stats.rankdata) of a period window's present cells.

    Returns a flat units·periods vector, NaN outside the ranked cells; when ``out`` is given,
    writes there the ranks minus their mean (n + 1)/2, and 0 outside. Linear time: walks the
    cached sort order counting members per tie group.
    """
    inside = (cache.period >= window.start) & (cache.period < window.stop) & cache.present
    groups = cache.groups[inside]
    counts = np.bincount(groups, minlength=cache.n_groups)
    average = np.cumsum(counts) - (counts - 1) / 2.0
    if out is None:
        out = np.full(cache.order.size, np.nan)
    else:
        average -= (groups.size + 1) / 2.0
        out.fill(0.0)
    out[cache.order[inside]] = average[groups]
    return out


class _WindowCache:
    """Per-call caches keyed by period window (one window per lag shift and side).

    Holds the unit-centred cells of the metrics in use and one sort per metric. Per window it
    memoises per-unit sums and a matrix of centred ranks (one row per metric, flat
    units·periods coordinates) reused by every pair whose complete cases are exactly the
    present cells; pairs with smaller complete cases are ranked by `complete_ranks`, which
    memoises each metric's window order here.
    """

    def __init__(self, prep: _Prepared, metrics: IntArray) -> None:
        self.prep = prep
        self.metrics = metrics
        everything = metrics.size == prep.values.shape[0]
        self.cells = prep.centred if everything else prep.centred[metrics]
        self.valid = prep.valid if everything else prep.valid[metrics]
        self.centred_cells = self.cells.reshape(metrics.size, -1)
        self.caches = dict(zip(metrics.tolist(), _rank_caches(prep.values[metrics]), strict=True))
        self.matrices: dict[tuple[int, int], tuple[FloatArray, FloatArray]] = {}
        self.window_orders: dict[str, Any] = {}  # complete_ranks' memo: present cells sorted

    def unit_sums(self, window: slice) -> dict[str, FloatArray]:
        """Per metric and unit over present cells in the window (metrics × units arrays).

        n: cells; sum: Σ unit-centred values; mean: unit mean (metric-centred, 0 without
        cells); within: Σ squared deviations from that mean.
        """
        cells = self.cells[:, :, window]
        n = self.valid[:, :, window].sum(axis=2, dtype=float)
        total = cells.sum(axis=2)
        safe = np.maximum(n, 1.0)
        mean = np.where(n > 0, self.prep.unit_means[self.metrics] + total / safe, 0.0)
        within = np.einsum("mut,mut->mu", cells, cells) - total * total / safe
        return {"n": n, "sum": total, "mean": mean, "within": within}

    def centred_matrix(self, window: slice) -> tuple[FloatArray, FloatArray]:
        """Rows: each metric's centred window ranks, 0 elsewhere; and each row's Σ squares."""
        key = (window.start, window.stop)
        if key not in self.matrices:
            matrix = np.empty((self.metrics.size, self.prep.values[0].size))
            for row, metric in enumerate(self.metrics):
                _subset_ranks(self.caches[int(metric)], window, out=matrix[row])
            self.matrices[key] = (matrix, np.einsum("ij,ij->i", matrix, matrix))
        return self.matrices[key]
