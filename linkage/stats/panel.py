"""Lagged linkage statistics for metric pairs over a run's panels (`linkage_stats`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from .common import FEW_UNITS, SMALL_N, FloatArray, IntArray
from .lags import _window_length
from .moments import _moment_stats, _moment_totals, _pair_counts
from .multiple_testing import benjamini_hochberg
from .prepared import _prepare, _Prepared, _WindowCache
from .ranks import _lag_spearman_p, _spearman_by_lag


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

    Vectorised: pairs whose complete cases are both metrics' present cells take matrix
    products over all pairs per lag; pairs with their own complete cases take compiled walks
    that serve every lag at once (`kernels`). Python loops run over lags and over
    small-sample permutation tests. Results are ordered pair by pair, lags in the given
    order. Raises ValueError for a malformed panel or pair.
    """
    prep = _prepare(panels)
    rows, cols = _pair_indexes(pairs, prep.values.shape[0])
    lag_list = [int(lag) for lag in lags]
    if rows.size == 0 or not lag_list:
        return []
    cache = _WindowCache(prep, np.unique(np.concatenate([rows, cols])))
    counts = _pair_counts(cache, rows, cols, lag_list)
    totals = _moment_totals(cache, rows, cols, lag_list, counts[1] & counts[2])
    spearman = _spearman_by_lag(cache, rows, cols, lag_list, counts)
    per_lag = [
        _lag_results(
            prep,
            (rows, cols, lag),
            (totals[:, index], spearman[index]),
            rng,
            permutations,
            permutation_below,
        )
        for index, lag in enumerate(lag_list)
    ]
    stacked = {name: np.stack([item[name] for item in per_lag]) for name in per_lag[0]}
    stacked["q"] = benjamini_hochberg(stacked["p"])
    stacked["within_q"] = benjamini_hochberg(stacked["within_p"])
    return _linkage_results(stacked, rows, cols, lag_list, prep.values.shape[1:])


def _lag_results(
    prep: _Prepared,
    tests: tuple[IntArray, IntArray, int],
    sums: tuple[FloatArray, FloatArray],
    rng: np.random.Generator,
    permutations: int,
    permutation_below: int,
) -> dict[str, FloatArray]:
    """Every per-pair statistic at one lag (arrays over pairs), before BH across lags.

    ``tests`` is (X metrics, Y metrics, lag); ``sums`` this lag's moment totals (15 × pairs)
    and Spearman ρ, computed for all lags at once.
    """
    rows, cols, lag = tests
    totals, spearman = sums
    result = _moment_stats(totals, prep.scale[rows], prep.scale[cols])
    result["spearman"] = spearman
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
