"""Pooled Spearman ρ over each pair's own complete cases equals scipy, ties and gaps included."""

import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import stats

from linkage.stats import lagged_pairs, linkage_stats


def _tied_panels_with_gaps(seed: int, missing: float) -> np.ndarray:
    """Five metrics on a 0–6 rating scale (heavy ties), a lag-1 link and random missing cells."""
    rng = np.random.default_rng(seed)
    panels = rng.normal(size=(5, 40, 7)) + rng.normal(size=(5, 40, 1))
    panels[3, :, 1:] += 0.7 * panels[1, :, :-1]
    panels = np.round(3.0 + 1.5 * panels).clip(0, 6)
    panels[rng.random(panels.shape) < missing] = np.nan
    return panels


def _assert_matches_scipy(panels: np.ndarray, lags: list[int]) -> None:
    """Every (pair, lag) ρ equals scipy.stats.spearmanr on that pair's complete cases."""
    pairs = list(itertools.combinations(range(panels.shape[0]), 2))
    results = linkage_stats(panels, pairs, lags, rng=np.random.default_rng(0), permutations=9)
    assert len(results) == len(pairs) * len(lags)
    for result in results:
        x, y, _ = lagged_pairs(panels[result.x_index], panels[result.y_index], result.lag)
        expected = stats.spearmanr(x, y).statistic
        assert result.n_pairs == x.size
        assert result.spearman == pytest.approx(expected, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize(("seed", "missing"), [(1, 0.1), (2, 0.3), (3, 0.5)])
def test_spearman_with_missing_cells_and_ties_matches_scipy(seed: int, missing: float) -> None:
    _assert_matches_scipy(_tied_panels_with_gaps(seed, missing), [-2, -1, 0, 1, 2])


def test_spearman_with_continuous_values_and_gaps_matches_scipy() -> None:
    rng = np.random.default_rng(4)
    panels = rng.normal(size=(4, 60, 10))
    panels[rng.random(panels.shape) < 0.2] = np.nan
    _assert_matches_scipy(panels, [-3, 0, 1])


def test_spearman_at_more_lags_than_one_walk_serves_matches_scipy() -> None:
    # The compiled walks take at most 8 lags at once; the rest go in a second batch.
    lags = [3, -5, 0, 5, -1, 2, -4, 1, 4, -2, -3]
    _assert_matches_scipy(_tied_panels_with_gaps(9, 0.2), lags)
    rng = np.random.default_rng(10)
    panels = rng.normal(size=(3, 50, 12))
    panels[rng.random(panels.shape) < 0.15] = np.nan
    _assert_matches_scipy(panels, lags)


def test_spearman_with_gaps_in_only_one_metric_matches_scipy() -> None:
    panels = _tied_panels_with_gaps(5, 0.0)
    panels[2, ::3, 2] = np.nan
    panels[4, 5:9, :] = np.nan  # whole units missing in one metric
    _assert_matches_scipy(panels, [-1, 0, 1])


def test_spearman_is_nan_when_a_side_is_constant_on_the_complete_cases() -> None:
    panels = _tied_panels_with_gaps(7, 0.0)
    panels[0, :, :] = np.nan
    panels[0, :, 0] = 2.0  # constant where present
    panels[1, 0, 0] = np.nan
    results = linkage_stats(panels, [(0, 1)], [0], rng=np.random.default_rng(0))
    assert np.isnan(results[0].spearman)
    assert "constant_input" in results[0].warnings


def test_linkage_with_gaps_runs_from_two_threads_at_once() -> None:
    # A threaded web server may run two linkage computations eagerly at the same time; the
    # compiled parallel loops must neither abort the process nor mix their results.
    panels = _tied_panels_with_gaps(8, 0.2)
    pairs = list(itertools.combinations(range(panels.shape[0]), 2))

    def compute(_: int) -> list[float]:
        results = linkage_stats(panels, pairs, [-1, 0, 1], rng=np.random.default_rng(0))
        return [value for result in results for value in (result.spearman, result.within_r)]

    expected = compute(0)
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(compute, range(6)))
    assert all(np.allclose(outcome, expected, equal_nan=True) for outcome in outcomes)
