"""Lagged panel correlations: shifting by period within unit (lagged_pairs, linkage_stats)."""

import numpy as np
import pytest
from scipy import stats

from linkage.stats import lagged_pairs, linkage_stats


def _explicit_pairs(x_panel: np.ndarray, y_panel: np.ndarray, lag: int) -> tuple[list, list]:
    """Oracle: walk every unit and period, pairing X[u, t] with Y[u, t + lag] when both exist."""
    xs, ys = [], []
    units, periods = x_panel.shape
    for unit in range(units):
        for period in range(periods):
            later = period + lag
            if 0 <= later < periods:
                x_value, y_value = x_panel[unit, period], y_panel[unit, later]
                if not (np.isnan(x_value) or np.isnan(y_value)):
                    xs.append(x_value)
                    ys.append(y_value)
    return xs, ys


def _copy_shifted_panels(seed: int = 1) -> np.ndarray:
    """Metric 1 at period t + 1 equals metric 0 at period t exactly (metric 0 leads by one)."""
    rng = np.random.default_rng(seed)
    panels = np.full((2, 12, 8), np.nan)
    panels[0] = rng.normal(size=(12, 8)) + rng.normal(size=(12, 1))
    panels[1, :, 1:] = panels[0, :, :-1]
    panels[1, :, 0] = rng.normal(size=12)
    return panels


def _random_panels(seed: int) -> np.ndarray:
    """Four metrics with unit levels, a lag-1 link, gaps in metrics 1–3, none in metric 0."""
    rng = np.random.default_rng(seed)
    panels = rng.normal(size=(4, 30, 9)) + rng.normal(size=(4, 30, 1))
    panels[2, :, 1:] += 0.6 * panels[0, :, :-1]
    for metric in (1, 2, 3):
        panels[metric][rng.random((30, 9)) < 0.15] = np.nan
    panels[3, 4, :] = np.nan  # a unit with no data at all for metric 3
    return panels


def test_lagged_pairs_aligns_x_at_t_with_y_at_t_plus_lag() -> None:
    panels = _random_panels(2)
    for lag in (-2, -1, 0, 1, 3):
        x, y, units = lagged_pairs(panels[1], panels[2], lag)
        expected_x, expected_y = _explicit_pairs(panels[1], panels[2], lag)
        assert x.tolist() == expected_x
        assert y.tolist() == expected_y
        assert units.tolist() == sorted(units.tolist())


def test_lagged_pairs_keeps_a_gap_instead_of_shifting_rows() -> None:
    panels = _copy_shifted_panels()
    panels[0, 0, 3] = np.nan  # unit 0 misses period 3 of X
    x, y, units = lagged_pairs(panels[0], panels[1], 1)
    # Row shifting would pair X[0, 4] with Y[0, 4] (= X[0, 3]); period shifting keeps y == x.
    np.testing.assert_array_equal(x, y)
    assert np.count_nonzero(units == 0) == 6  # 7 overlapping periods minus the gap
    assert len(x) == 12 * 7 - 1


def test_linkage_stats_lag_one_recovers_an_exact_copy_despite_a_gap() -> None:
    panels = _copy_shifted_panels()
    panels[0, 0, 3] = np.nan
    panels[1, 5, 2] = np.nan
    results = linkage_stats(panels, [(0, 1)], range(0, 3), rng=np.random.default_rng(0))
    by_lag = {result.lag: result for result in results}
    assert by_lag[1].r == pytest.approx(1.0, abs=1e-12)
    assert by_lag[1].spearman == pytest.approx(1.0, abs=1e-12)
    assert by_lag[1].within_r == pytest.approx(1.0, abs=1e-12)
    assert by_lag[1].n_pairs == 12 * 7 - 2
    assert by_lag[0].r < 0.9 and by_lag[2].r < 0.9


def test_linkage_stats_negative_lag_detects_y_leading_x() -> None:
    panels = _copy_shifted_panels()  # metric 0 leads metric 1
    results = linkage_stats(panels, [(1, 0)], [-1, 1], rng=np.random.default_rng(0))
    by_lag = {result.lag: result for result in results}
    # Pair (x = metric 1, y = metric 0): lag −1 compares metric 1 at t with metric 0 at t − 1.
    assert by_lag[-1].r == pytest.approx(1.0, abs=1e-12)
    assert by_lag[1].r < 0.9


@pytest.mark.parametrize("seed", [3, 4])
def test_linkage_stats_matches_scipy_on_explicit_lagged_pairs(seed: int) -> None:
    panels = _random_panels(seed)
    pairs = [(0, 1), (0, 2), (2, 0), (1, 3), (3, 3), (0, 0)]
    results = linkage_stats(panels, pairs, range(-2, 3), rng=np.random.default_rng(0))
    assert len(results) == len(pairs) * 5
    for result in results:
        x, y = _explicit_pairs(panels[result.x_index], panels[result.y_index], result.lag)
        assert result.n_pairs == len(x)
        assert result.r == pytest.approx(stats.pearsonr(x, y).statistic, rel=1e-12, abs=1e-14)
        assert result.spearman == pytest.approx(
            stats.spearmanr(x, y).statistic, rel=1e-12, abs=1e-14
        )


def test_linkage_stats_matches_scipy_on_a_complete_panel() -> None:
    rng = np.random.default_rng(5)
    panels = np.round(rng.normal(50, 15, size=(3, 40, 6)))  # integer scores: ties in the ranks
    results = linkage_stats(panels, [(0, 1), (1, 2), (2, 0)], range(-2, 3), rng=rng)
    for result in results:
        x, y = _explicit_pairs(panels[result.x_index], panels[result.y_index], result.lag)
        assert result.r == pytest.approx(stats.pearsonr(x, y).statistic, rel=1e-12)
        assert result.spearman == pytest.approx(stats.spearmanr(x, y).statistic, rel=1e-12)


def test_linkage_stats_pooled_inference_uses_the_number_of_units() -> None:
    panels = _random_panels(6)
    result = linkage_stats(panels, [(0, 2)], [1], rng=np.random.default_rng(0))[0]
    units = result.n_units
    assert units == 30 and result.n_pairs > 3 * units
    t = result.r * np.sqrt((units - 2) / (1 - result.r**2))
    assert result.p == pytest.approx(2 * stats.t.sf(abs(t), units - 2), rel=1e-10)
    half = stats.norm.ppf(0.975) / np.sqrt(units - 3)
    expected = (np.tanh(np.arctanh(result.r) - half), np.tanh(np.arctanh(result.r) + half))
    assert (result.r_low, result.r_high) == pytest.approx(expected, rel=1e-12)
    assert result.r_low < result.r < result.r_high
    assert result.spearman_p == pytest.approx(
        2 * stats.t.sf(abs(result.spearman) * np.sqrt((units - 2) / (1 - result.spearman**2)),
                       units - 2),
        rel=1e-10,
    )  # fmt: skip


def test_linkage_stats_lag_beyond_the_panel_has_no_pairs() -> None:
    panels = _random_panels(7)
    result = linkage_stats(panels, [(0, 1)], [9], rng=np.random.default_rng(0))[0]
    assert result.n_pairs == 0 and result.n_units == 0
    assert np.isnan(result.r) and np.isnan(result.p) and np.isnan(result.q)
    assert {"small_n", "few_units"} <= set(result.warnings)


def test_linkage_stats_unit_permutation_with_one_period_is_the_pair_permutation() -> None:
    rng = np.random.default_rng(8)
    x = rng.normal(size=6)
    y = 0.8 * x + rng.normal(size=6)
    panels = np.stack([x[:, None], y[:, None]])  # 6 units × 1 period: units are the pairs

    def statistic(y_order: np.ndarray) -> float:
        return stats.spearmanr(x, y_order).statistic

    expected = stats.permutation_test((y,), statistic, permutation_type="pairings")
    result = linkage_stats(panels, [(0, 1)], [0], rng=np.random.default_rng(0))[0]
    assert result.spearman == pytest.approx(expected.statistic, rel=1e-12)
    assert result.spearman_p == pytest.approx(expected.pvalue, rel=1e-12)  # 6! orders, exact


def test_linkage_stats_unit_permutation_is_reproducible_with_a_seed() -> None:
    panels = _random_panels(9)[:, :12, :6]  # 12 units: fewer than 100 pairs → permutation
    first = linkage_stats(panels, [(0, 2)], [0, 1], rng=np.random.default_rng(21))
    second = linkage_stats(panels, [(0, 2)], [0, 1], rng=np.random.default_rng(21))
    assert [item.spearman_p for item in first] == [item.spearman_p for item in second]
    assert all(1 / 1000 <= item.spearman_p <= 1 for item in first)


def test_linkage_stats_rejects_a_pair_outside_the_panel() -> None:
    with pytest.raises(ValueError, match="pair indexes"):
        linkage_stats(np.zeros((2, 3, 4)), [(0, 2)], [0], rng=np.random.default_rng(0))
