"""Pure statistics for linkage analysis (no Django): correlations, lags, FDR, drivers, sample size.

Conventions used throughout:

- A *panel* is a float array ``units × periods``; NaN (or any non-finite value) marks a missing
  or suppressed cell. Column ``t`` is period index ``t`` (consecutive integers), so a lag shifts
  by column within a unit and a missing period stays missing; rows are never shifted.
- A run stacks panels as ``metrics × units × periods``.
- Lag ``k`` pairs X at period ``t`` with Y at period ``t + k``; a negative ``k`` means Y leads X.
- Inference on unit-level data uses the number of units as n (STATISTICS.md rule 8).
- Small samples, constant inputs and missing cells come back as short warning strings, never as
  exceptions from scipy; results are frozen dataclasses of plain floats and ints.
- Randomness (permutation tests) comes only from a caller-supplied ``np.random.Generator``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import overload

import numpy as np
import numpy.typing as npt
from scipy import special, stats

__all__ = [
    "FEW_UNITS",
    "MAX_SHAPLEY_DRIVERS",
    "SMALL_N",
    "CorrelationResult",
    "KeyDriverResult",
    "LinkageStat",
    "benjamini_hochberg",
    "critical_r",
    "fisher_ci",
    "key_drivers",
    "lagged_pairs",
    "linkage_stats",
    "pearson",
    "sample_size_note",
    "spearman",
    "units_needed",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

FEW_UNITS = 10  # fewer units than this → "few_units" (|r| must exceed ~.63 to be significant)
SMALL_N = 10  # fewer complete pairs (or rows) than this → "small_n"
MAX_SHAPLEY_DRIVERS = 12  # exact Shapley enumerates 2**p subsets
_SD_FLOOR = 1e-10  # a spread below this fraction of the largest |value| counts as constant
_PERMUTATION_TOLERANCE = 1e-12  # relative slack so the observed statistic counts as "as extreme"
_CHUNK_ELEMENTS = 2_000_000  # bound on a unit block of per-unit moments (units × 6 × X × Y)
_COLLINEAR = 1e-10  # smallest eigenvalue of the drivers' correlation matrix treated as zero
_RANK_SS_FLOOR = 1e-6  # below any Σ(rank − mean)² of a non-constant ranking (≥ 1/8)
_FIELLER_VARIANCE = 1.06  # Fieller, Hartley & Pearson (1957) variance factor for Spearman's z


# --------------------------------------------------------------------------- result types


@dataclass(frozen=True)
class CorrelationResult:
    """One correlation with its two-sided p-value, CI and the number of complete pairs."""

    r: float
    p: float
    ci_low: float
    ci_high: float
    n: int
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class LinkageStat:
    """Lagged linkage statistics for one (x metric, y metric, lag).

    ``r``/``spearman`` pool all (unit, period) pairs; their p-values and CI use ``n_units``.
    ``within_*`` is the repeated-measures correlation and fixed-effects slope (units of y per
    unit of x); ``between_*`` correlates unit means. ``q`` is the BH q-value of ``p`` across
    every test of the call, ``within_q`` the same for ``within_p``.
    """

    x_index: int
    y_index: int
    lag: int
    n_pairs: int
    n_units: int
    r: float
    r_low: float
    r_high: float
    p: float
    spearman: float
    spearman_p: float
    within_r: float
    within_p: float
    between_r: float
    between_p: float
    slope_within: float
    slope_within_low: float
    slope_within_high: float
    q: float
    within_q: float
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class KeyDriverResult:
    """Relative importance of drivers: Shapley (LMG) and Johnson weights, each summing to R²."""

    r_squared: float
    shapley: tuple[float, ...]
    johnson: tuple[float, ...]
    shares_shapley: tuple[float, ...]
    shares_johnson: tuple[float, ...]
    n: int
    warnings: tuple[str, ...]


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


# --------------------------------------------------------------------------- small helpers


def _two_sided_p(r: npt.ArrayLike, df: npt.ArrayLike) -> FloatArray:
    """Two-sided p of H0: ρ = 0 from the t test with ``df`` degrees of freedom.

    Uses P(|T_df| ≥ |t|) = I_{1−r²}(df/2, 1/2), the regularised incomplete beta function, which
    equals the t-test p for t = r·sqrt(df / (1 − r²)). NaN where df < 1 or r is NaN.
    """
    r_array = np.asarray(r, dtype=float)
    df_array = np.asarray(df, dtype=float)
    usable = (df_array >= 1) & np.isfinite(r_array)
    x = np.clip(1.0 - np.where(usable, r_array, 0.0) ** 2, 0.0, 1.0)
    p = special.betainc(np.where(usable, df_array, 1.0) / 2.0, 0.5, x)
    return np.where(usable, p, np.nan)


def _fisher_interval(
    r: npt.ArrayLike, se: npt.ArrayLike, confidence: float
) -> tuple[FloatArray, FloatArray]:
    """Back-transformed interval atanh(r) ± z·se (normal quantile z for ``confidence``)."""
    z = special.ndtri(0.5 + confidence / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = np.arctanh(np.asarray(r, dtype=float))
        return np.tanh(centre - z * np.asarray(se)), np.tanh(centre + z * np.asarray(se))


def _degenerate(
    sum_squares: npt.ArrayLike, count: npt.ArrayLike, scale: npt.ArrayLike
) -> BoolArray:
    """True where a centred sum of squares means "no spread" relative to the data's magnitude."""
    floor = np.asarray(count, dtype=float) * (_SD_FLOOR * np.asarray(scale, dtype=float)) ** 2
    return np.asarray(sum_squares) <= floor


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


# --------------------------------------------------------------------------- correlations


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


# --------------------------------------------------------------------------- lags


def _windows(periods: int, lag: int) -> tuple[slice, slice]:
    """Column slices of X (period t) and Y (period t + lag) that overlap inside the panel."""
    x_window = slice(max(0, -lag), max(0, periods - max(0, lag)))
    y_window = slice(max(0, lag), max(0, periods + min(0, lag)))
    return x_window, y_window


def lagged_pairs(
    x_panel: npt.ArrayLike, y_panel: npt.ArrayLike, lag: int
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Aligned (X[u, t], Y[u, t + lag], u) for every unit and period where both are present.

    Shifts by period column within each unit, so a missing period never pulls the next one
    into its place. Negative ``lag`` pairs X at t with Y at t − |lag| (Y leads). Returned in
    unit-then-period order.
    """
    x_values = np.asarray(x_panel, dtype=float)
    y_values = np.asarray(y_panel, dtype=float)
    if x_values.ndim != 2 or x_values.shape != y_values.shape:
        raise ValueError("x_panel and y_panel must be units × periods arrays of one shape")
    x_window, y_window = _windows(x_values.shape[1], lag)
    x_part, y_part = x_values[:, x_window], y_values[:, y_window]
    both = np.isfinite(x_part) & np.isfinite(y_part)
    units = np.broadcast_to(np.arange(x_values.shape[0])[:, None], both.shape)
    return x_part[both], y_part[both], units[both]


# --------------------------------------------------------------------------- linkage engine


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
    order = np.argsort(flat)
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


def _subset_ranks(
    cache: _RankCache, window: slice, mask: BoolArray | None, *, out: FloatArray | None = None
) -> FloatArray:
    """Average ranks (ties averaged, as scipy.stats.rankdata) of cells in a period window.

    Ranks the window's present cells, or only those where ``mask`` (units × window periods) is
    True. Returns a flat units·periods vector, NaN outside the ranked cells; when ``out`` is
    given, writes there the ranks minus their mean (n + 1)/2, and 0 outside. Linear time: walks
    the cached sort order counting members per tie group.
    """
    if mask is None:
        inside = (cache.period >= window.start) & (cache.period < window.stop) & cache.present
    else:
        member = np.zeros(cache.shape, dtype=bool)
        member[:, window] = mask
        inside = member.ravel()[cache.order]
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
    present cells; a pair with a smaller complete-case mask is re-ranked from the cached sort.
    """

    def __init__(self, prep: _Prepared, metrics: IntArray) -> None:
        self.prep = prep
        self.metrics = metrics
        everything = metrics.size == prep.values.shape[0]
        self.cells = prep.centred if everything else prep.centred[metrics]
        self.valid = prep.valid if everything else prep.valid[metrics]
        self.centred_cells = self.cells.reshape(metrics.size, -1)
        self.caches = {int(metric): _rank_cache(prep.values[metric]) for metric in metrics}
        self.matrices: dict[tuple[int, int], tuple[FloatArray, FloatArray]] = {}

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

    def ranks(self, metric: int, window: slice, mask: BoolArray | None = None) -> FloatArray:
        """Ranks of a metric's cells in a window (units × window periods) over ``mask``.

        Without a mask: the memoised centred ranks of the present cells (a shift by a constant,
        which leaves any correlation over those cells unchanged).
        """
        if mask is None:
            matrix, _ = self.centred_matrix(window)
            flat = matrix[int(np.searchsorted(self.metrics, metric))]
        else:
            flat = _subset_ranks(self.caches[int(metric)], window, mask)
        return flat.reshape(self.prep.values.shape[1:])[:, window]

    def centred_matrix(self, window: slice) -> tuple[FloatArray, FloatArray]:
        """Rows: each metric's centred window ranks, 0 elsewhere; and each row's Σ squares."""
        key = (window.start, window.stop)
        if key not in self.matrices:
            matrix = np.empty((self.metrics.size, self.prep.values[0].size))
            for row, metric in enumerate(self.metrics):
                _subset_ranks(self.caches[int(metric)], window, None, out=matrix[row])
            self.matrices[key] = (matrix, np.einsum("ij,ij->i", matrix, matrix))
        return self.matrices[key]


def _shifted_cross(matrix: FloatArray, periods: int, lag: int) -> FloatArray:
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


def _unit_moments(
    prep: _Prepared, rows: IntArray, cols: IntArray, windows: tuple[slice, slice], units: slice
) -> FloatArray:
    """Per-unit masked sums n, Σx, Σy, Σx², Σy², Σxy for each pair: shape 6 × units × pairs.

    Batched matmuls per unit of [valid, x, x²] (X metrics) with valid Y, of valid X with
    [y, y²], and of x with y, over the lag-aligned periods: the complete-case mask is implicit.
    """
    x_ids, li = np.unique(rows, return_inverse=True)
    y_ids, rj = np.unique(cols, return_inverse=True)
    x_valid = prep.valid[:, units, windows[0]][x_ids].transpose(1, 0, 2).astype(float)
    y_valid = prep.valid[:, units, windows[1]][y_ids].transpose(1, 2, 0).astype(float)
    x_values = prep.centred[:, units, windows[0]][x_ids].transpose(1, 0, 2)
    y_values = prep.centred[:, units, windows[1]][y_ids].transpose(1, 2, 0)
    x_side = np.matmul(np.concatenate([x_valid, x_values, x_values * x_values], axis=1), y_valid)
    y_side = np.matmul(x_valid, np.concatenate([y_values, y_values * y_values], axis=2))
    products = np.matmul(x_values, y_values)
    n_x, n_y = x_ids.size, y_ids.size
    return np.stack(
        [
            x_side[:, li, rj],
            x_side[:, n_x + li, rj],
            y_side[:, li, rj],
            x_side[:, 2 * n_x + li, rj],
            y_side[:, li, n_y + rj],
            products[:, li, rj],
        ]
    )


def _reduce_units(moments: FloatArray, mean_x: FloatArray, mean_y: FloatArray) -> FloatArray:
    """Sum per-unit moments into the 15 per-pair totals the pooled/within/between r need.

    ``mean_x``/``mean_y`` (units × pairs) are each unit's metric mean, so unit means over the
    complete pairs are exact in the metric-centred scale.
    """
    n, sx, sy, sxx, syy, sxy = moments
    has = n > 0
    safe = np.where(has, n, 1.0)
    ux = np.where(has, mean_x + sx / safe, 0.0)
    uy = np.where(has, mean_y + sy / safe, 0.0)
    terms = [
        n,
        has.astype(float),
        sxx - sx * sx / safe,
        syy - sy * sy / safe,
        sxy - sx * sy / safe,
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
    ]
    return np.stack([term.sum(axis=0) for term in terms])


def _masked_sums(
    prep: _Prepared, rows: IntArray, cols: IntArray, x_window: slice, y_window: slice
) -> FloatArray:
    """Per-pair totals (15 × pairs) for pairs whose complete cases differ from a metric's own.

    Works in unit blocks so the per-unit moment tensors stay within a fixed memory bound.
    """
    n_units = prep.values.shape[1]
    width = 6 * np.unique(rows).size * np.unique(cols).size
    block = max(1, _CHUNK_ELEMENTS // width)
    totals = np.zeros((15, rows.size))
    for start in range(0, n_units, block):
        units = slice(start, min(start + block, n_units))
        moments = _unit_moments(prep, rows, cols, (x_window, y_window), units)
        mean_x = prep.unit_means[rows][:, units].T
        mean_y = prep.unit_means[cols][:, units].T
        totals += _reduce_units(moments, mean_x, mean_y)
    return totals


def _pair_counts(
    prep: _Prepared, rows: IntArray, cols: IntArray, lag: int
) -> tuple[FloatArray, BoolArray, BoolArray]:
    """Complete pairs per metric pair, and whether that equals X's / Y's present-cell count.

    A metric with no missing cell in its window pairs completely with any other metric's
    present cells; only pairs where both metrics have gaps need a product of validity masks.
    """
    x_window, y_window = _windows(prep.values.shape[2], lag)
    x_count = prep.valid[:, :, x_window].sum(axis=(1, 2)).astype(float)
    y_count = prep.valid[:, :, y_window].sum(axis=(1, 2)).astype(float)
    cells = float(prep.values.shape[1] * _window_length(prep.values.shape[2], lag))
    n_pairs = np.minimum(x_count[rows], y_count[cols])
    gaps = (x_count[rows] < cells) & (y_count[cols] < cells)
    if gaps.any():
        x_ids, li = np.unique(rows[gaps], return_inverse=True)
        y_ids, rj = np.unique(cols[gaps], return_inverse=True)
        x_valid = prep.valid[:, :, x_window][x_ids].reshape(x_ids.size, -1).astype(float)
        y_valid = prep.valid[:, :, y_window][y_ids].reshape(y_ids.size, -1).astype(float)
        n_pairs[gaps] = (x_valid @ y_valid.T)[li, rj]
    return n_pairs, n_pairs == x_count[rows], n_pairs == y_count[cols]


def _lag_sums(
    cache: _WindowCache, rows: IntArray, cols: IntArray, lag: int, complete: BoolArray
) -> FloatArray:
    """Per-pair totals (15 × pairs) at one lag: fast path for complete pairs, masked for others."""
    x_window, y_window = _windows(cache.prep.values.shape[2], lag)
    totals = np.zeros((15, rows.size))
    if complete.any():
        totals[:, complete] = _complete_sums(cache, rows[complete], cols[complete], lag)
    if not complete.all():
        totals[:, ~complete] = _masked_sums(
            cache.prep, rows[~complete], cols[~complete], x_window, y_window
        )
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


def _lag_spearman(
    cache: _WindowCache,
    rows: IntArray,
    cols: IntArray,
    lag: int,
    counts: tuple[FloatArray, BoolArray, BoolArray],
) -> FloatArray:
    """Pooled Spearman ρ per pair at one lag, ranking each pair's complete cases.

    ``counts`` is (complete pairs, mask equals X's present cells, mask equals Y's present
    cells). Pairs whose mask equals both reuse the memoised ranks and share one matmul; the
    rest re-rank only the side whose mask shrank.
    """
    n_pairs, reuse_x, reuse_y = counts
    x_window, y_window = _windows(cache.prep.values.shape[2], lag)
    rho = np.full(rows.size, np.nan)
    shared = reuse_x & reuse_y & (n_pairs >= 3)
    if shared.any():
        rho[shared] = _shared_rank_correlations(cache, rows[shared], cols[shared], lag)
    valid = cache.prep.valid
    for index in np.flatnonzero(~shared & (n_pairs >= 3)):
        mask = valid[rows[index]][:, x_window] & valid[cols[index]][:, y_window]
        x_ranks = cache.ranks(rows[index], x_window, None if reuse_x[index] else mask)
        y_ranks = cache.ranks(cols[index], y_window, None if reuse_y[index] else mask)
        rho[index] = _centred_r(x_ranks[mask], y_ranks[mask])
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


def _stat_warnings(
    stacked: dict[str, FloatArray], lag_index: int, pair_index: int, cells: int
) -> tuple[str, ...]:
    """Warning strings for one (pair, lag) result."""
    value = {name: array[lag_index, pair_index] for name, array in stacked.items()}
    checks = (
        ("small_n", value["n_pairs"] < SMALL_N),
        ("few_units", value["n_units"] < FEW_UNITS),
        ("constant_input", value["flat"] and value["n_pairs"] >= 3),
        ("constant_within", value["flat_within"] and value["n_pairs"] >= 3),
        ("constant_between", value["flat_between"] and value["n_units"] >= 3),
        ("missing_dropped", value["n_pairs"] < cells),
    )
    return tuple(name for name, flagged in checks if flagged)


def linkage_stats(
    panels: npt.ArrayLike,
    pairs: Sequence[tuple[int, int]],
    lags: Iterable[int],
    *,
    rng: np.random.Generator,
    permutations: int = 999,
    permutation_below: int = 100,
) -> list[LinkageStat]:
    """Lagged pooled, within-unit and between-unit correlations for metric pairs, with BH q.

    ``panels`` is metrics × units × periods (NaN = missing); ``pairs`` holds (x, y) metric
    indexes; for each pair and each lag (X at t vs Y at t + lag, pairwise complete):

    - pooled Pearson r and Spearman ρ over all (unit, period) pairs. Their p-values and the
      Fisher CI of r use n = number of contributing units (df = K − 2), a conservative choice
      because periods of one unit are not independent observations. Spearman p comes from a
      permutation of whole units with fewer than ``permutation_below`` pairs.
    - within-unit repeated-measures r (df = N − K − 1) and the fixed-effects slope of y on x
      with a 95 % t interval (y units per x unit);
    - between-unit r of unit means (df = K − 2);
    - q: Benjamini–Hochberg over the pooled p of every result in the call; within_q the same
      over the within-unit p (each family corrected on its own).

    Vectorised: per lag, matrix products over all pairs at once (per-unit batched products
    only for pairs with missing cells); Python loops run over lags, over pairs whose complete
    cases need their own ranking, and over small-sample permutation tests. Results are ordered
    pair by pair, lags in the given order. Raises ValueError for a malformed panel or pair.
    """
    prep = _prepare(panels)
    rows, cols = _pair_indexes(pairs, prep.values.shape[0])
    lag_list = [int(lag) for lag in lags]
    if rows.size == 0 or not lag_list:
        return []
    cache = _WindowCache(prep, np.unique(np.concatenate([rows, cols])))
    per_lag = [
        _lag_results(cache, rows, cols, lag, rng, permutations, permutation_below)
        for lag in lag_list
    ]
    stacked = {name: np.stack([item[name] for item in per_lag]) for name in per_lag[0]}
    stacked["q"] = benjamini_hochberg(stacked["p"])
    stacked["within_q"] = benjamini_hochberg(stacked["within_p"])
    return _linkage_results(stacked, rows, cols, lag_list, prep.values.shape[1:])


def _lag_results(
    cache: _WindowCache,
    rows: IntArray,
    cols: IntArray,
    lag: int,
    rng: np.random.Generator,
    permutations: int,
    permutation_below: int,
) -> dict[str, FloatArray]:
    """Every per-pair statistic at one lag (arrays over pairs), before BH across lags."""
    prep = cache.prep
    counts = _pair_counts(prep, rows, cols, lag)
    totals = _lag_sums(cache, rows, cols, lag, counts[1] & counts[2])
    result = _moment_stats(totals, prep.scale[rows], prep.scale[cols])
    result["spearman"] = _lag_spearman(cache, rows, cols, lag, counts)
    result["spearman_p"] = _lag_spearman_p(
        prep, rows, cols, lag, result, rng, permutations, permutation_below
    )
    return result


def _pair_indexes(pairs: Sequence[tuple[int, int]], metrics: int) -> tuple[IntArray, IntArray]:
    """X and Y metric indexes of the pairs, checked against the number of metrics."""
    indexes = np.array(list(pairs), dtype=np.intp).reshape(-1, 2)
    if ((indexes < 0) | (indexes >= metrics)).any():
        raise ValueError(f"pair indexes must lie in 0..{metrics - 1}")
    return indexes[:, 0].copy(), indexes[:, 1].copy()


def _linkage_results(
    stacked: dict[str, FloatArray],
    rows: IntArray,
    cols: IntArray,
    lags: list[int],
    shape: tuple[int, ...],
) -> list[LinkageStat]:
    """Package the per-lag arrays as LinkageStat objects, pair-major."""
    results = []
    floats = [field.name for field in fields(LinkageStat) if field.type == "float"]
    for pair_index in range(rows.size):
        for lag_index, lag in enumerate(lags):
            cells = shape[0] * _window_length(shape[1], lag)
            values = {name: float(stacked[name][lag_index, pair_index]) for name in floats}
            results.append(
                LinkageStat(
                    x_index=int(rows[pair_index]),
                    y_index=int(cols[pair_index]),
                    lag=lag,
                    n_pairs=int(stacked["n_pairs"][lag_index, pair_index]),
                    n_units=int(stacked["n_units"][lag_index, pair_index]),
                    warnings=_stat_warnings(stacked, lag_index, pair_index, cells),
                    **values,
                )
            )
    return results


def _window_length(periods: int, lag: int) -> int:
    """Number of periods t for which both t and t + lag fall inside the panel."""
    return max(0, periods - abs(lag))


# --------------------------------------------------------------------------- multiple testing


def benjamini_hochberg(p_values: npt.ArrayLike) -> FloatArray:
    """Benjamini–Hochberg (1995) step-up q-values: q_(i) = min_{j ≥ i} min(1, m·p_(j) / j).

    NaN p-values stay NaN and do not count in m. Any shape; the result has the same shape.
    Matches ``scipy.stats.false_discovery_control(method="bh")`` on NaN-free input.
    """
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    present = ~np.isnan(p.ravel())
    finite = p.ravel()[present]
    m = finite.size
    if m == 0:
        return q
    order = np.argsort(finite, kind="stable")
    scaled = finite[order] * m / np.arange(1, m + 1)
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    q.ravel()[present] = adjusted
    return q


# --------------------------------------------------------------------------- key drivers


def _subset_r_squared(correlations: FloatArray, drivers: int, singular: bool) -> FloatArray:
    """R² of y on every driver subset, indexed by bitmask, from the correlation matrix alone.

    R²(S) = r_Sy' R_SS⁻¹ r_Sy; subsets of one size are solved as one batch (pseudo-inverse
    when the drivers are collinear).
    """
    rxx, rxy = correlations[:drivers, :drivers], correlations[:drivers, drivers]
    r_squared = np.zeros(2**drivers)
    for size in range(1, drivers + 1):
        subsets = np.array(list(itertools.combinations(range(drivers), size)), dtype=np.intp)
        blocks = rxx[subsets[:, :, None], subsets[:, None, :]]
        targets = rxy[subsets]
        if singular:
            solved = np.einsum("cij,cj->ci", np.linalg.pinv(blocks, hermitian=True), targets)
        else:
            solved = np.linalg.solve(blocks, targets[..., None])[..., 0]
        r_squared[(1 << subsets).sum(axis=1)] = np.einsum("ci,ci->c", targets, solved)
    return r_squared


def _shapley_weights(r_squared: FloatArray, drivers: int) -> FloatArray:
    """LMG / Shapley value of each driver: Σ_S |S|!(p−|S|−1)!/p! · [R²(S ∪ j) − R²(S)]."""
    masks = np.arange(2**drivers)
    sizes = np.bitwise_count(masks)
    weight = np.array(
        [math.factorial(s) * math.factorial(drivers - s - 1) for s in range(drivers)], dtype=float
    ) / math.factorial(drivers)
    bits = (1 << np.arange(drivers))[:, None]
    without = (masks[None, :] & bits) == 0
    gains = r_squared[masks[None, :] | bits] - r_squared[masks][None, :]
    return np.where(without, weight[np.minimum(sizes, drivers - 1)] * gains, 0.0).sum(axis=1)


def _johnson_weights(correlations: FloatArray, drivers: int) -> FloatArray:
    """Johnson (2000) relative weights: Λ = Rxx^{1/2}, β = Λ⁻¹ r_xy, ε_j = Σ_k Λ_jk² β_k²."""
    rxx, rxy = correlations[:drivers, :drivers], correlations[:drivers, drivers]
    eigenvalues, vectors = np.linalg.eigh(rxx)
    root = (vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ vectors.T
    beta = np.linalg.solve(root, rxy)
    return (root * root) @ (beta * beta)


def _driver_warnings(n: int, drivers: int, constant: bool, singular: bool) -> tuple[str, ...]:
    """Warnings for key-driver input."""
    checks = (
        ("small_n", n < max(SMALL_N, drivers + 2)),
        ("constant_input", constant),
        ("collinear_drivers", singular),
        ("too_many_drivers", drivers > MAX_SHAPLEY_DRIVERS),
    )
    return tuple(name for name, flagged in checks if flagged)


def _driver_data(X: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, bool]:  # noqa: N803
    """Listwise-complete rows of [X, y] and whether any column is constant."""
    drivers = np.asarray(X, dtype=float)
    outcome = np.asarray(y, dtype=float).ravel()
    drivers = drivers.reshape(-1, 1) if drivers.ndim == 1 else drivers
    if drivers.ndim != 2 or drivers.shape[0] != outcome.size:
        raise ValueError("X must be rows × drivers with one row per value of y")
    data = np.column_stack([drivers, outcome])
    data = data[np.isfinite(data).all(axis=1)]
    if data.shape[0] == 0:
        return data, False
    spread = data.var(axis=0) * data.shape[0]
    return data, bool(_degenerate(spread, data.shape[0], np.abs(data).max(axis=0)).any())


def key_drivers(X: npt.ArrayLike, y: npt.ArrayLike) -> KeyDriverResult:  # noqa: N803
    """Relative importance of drivers (columns of X) for outcome y on listwise-complete rows.

    Shapley / LMG (general dominance) weights: exact over all 2^p subsets (p ≤ 12, otherwise
    NaN with "too_many_drivers"), each subset's R² taken from the correlation matrix. Johnson's
    relative weights: symmetric square root of Rxx (NaN when drivers are collinear). Both sum
    to the full-model R² (linear model with intercept); shares are weights / R² (fractions
    summing to 1). Weights are unsigned.
    """
    data, constant = _driver_data(X, y)
    n, drivers = data.shape[0], data.shape[1] - 1
    missing = np.full(drivers, np.nan)
    if n < drivers + 2 or constant or drivers == 0:
        warnings = _driver_warnings(n, drivers, constant, False)
        return _driver_result(math.nan, missing, missing, n, warnings)
    correlations = np.corrcoef(data, rowvar=False)
    singular = bool(np.linalg.eigvalsh(correlations[:drivers, :drivers]).min() < _COLLINEAR)
    if drivers <= MAX_SHAPLEY_DRIVERS:
        subsets = _subset_r_squared(correlations, drivers, singular)
        r_squared, shapley = float(subsets[-1]), _shapley_weights(subsets, drivers)
    else:
        r_squared, shapley = _full_r_squared(correlations, drivers), missing
    johnson = missing if singular else _johnson_weights(correlations, drivers)
    warnings = _driver_warnings(n, drivers, constant, singular)
    return _driver_result(r_squared, shapley, johnson, n, warnings)


def _driver_result(
    r_squared: float,
    shapley: FloatArray,
    johnson: FloatArray,
    n: int,
    warnings: tuple[str, ...],
) -> KeyDriverResult:
    """Package weights (and their shares of R²) as plain tuples."""
    with np.errstate(divide="ignore", invalid="ignore"):
        shares_shapley, shares_johnson = shapley / r_squared, johnson / r_squared
    return KeyDriverResult(
        r_squared=r_squared,
        shapley=tuple(map(float, shapley)),
        johnson=tuple(map(float, johnson)),
        shares_shapley=tuple(map(float, shares_shapley)),
        shares_johnson=tuple(map(float, shares_johnson)),
        n=n,
        warnings=warnings,
    )


def _full_r_squared(correlations: FloatArray, drivers: int) -> float:
    """R² of the full model from the correlation matrix (pseudo-inverse for collinear drivers)."""
    rxx, rxy = correlations[:drivers, :drivers], correlations[:drivers, drivers]
    return float(rxy @ np.linalg.pinv(rxx, hermitian=True) @ rxy)


# --------------------------------------------------------------------------- sample size


def critical_r(n: int, *, alpha: float = 0.05) -> float:
    """Smallest |r| significant at two-sided ``alpha`` with n units: t/sqrt(n − 2 + t²).

    t is the 1 − alpha/2 quantile of Student's t with n − 2 df; NaN for n < 3.
    """
    if n < 3:
        return math.nan
    t = float(stats.t.ppf(1.0 - alpha / 2.0, n - 2))
    return t / math.sqrt(n - 2 + t * t)


def units_needed(r: float, *, alpha: float = 0.05, power: float = 0.80) -> int:
    """Units needed to detect correlation r (two-sided alpha, given power), Fisher z method.

    n = ((z_{1−α/2} + z_{power}) / atanh|r|)² + 3, rounded up (Lachin 1981). Raises ValueError
    unless 0 < |r| < 1.
    """
    if not 0.0 < abs(r) < 1.0:
        raise ValueError("r must satisfy 0 < |r| < 1")
    z_sum = special.ndtri(1.0 - alpha / 2.0) + special.ndtri(power)
    exact = (z_sum / math.atanh(abs(r))) ** 2 + 3.0
    return math.ceil(exact - 1e-9)


def sample_size_note(n_units: int, *, alpha: float = 0.05, target_r: float = 0.30) -> str:
    """One-sentence reminder of what n units can detect, for dashboards and reports."""
    needed = units_needed(target_r, alpha=alpha)
    level = f"{alpha:.2f}".removeprefix("0")
    detect = f"detecting r = {target_r:.2f} needs about {needed} units."
    if n_units < 3:
        return f"With {n_units} units no correlation can be tested; {detect}"
    threshold = critical_r(n_units, alpha=alpha)
    return (
        f"With {n_units} units only |r| ≥ {threshold:.2f} can be significant "
        f"at p < {level}; {detect}"
    )
