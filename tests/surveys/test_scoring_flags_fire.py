"""Flags that fire where they should: the Wilson-bound ceiling for every kind of metric, and
straight-lining judged against what independent answers to a grid would give.

Oracles: statsmodels proportion_confint(method="wilson") for the ceiling bound;
scipy.stats.binomtest(alternative="greater") for the straight-lining p; the expected share
Σ_v Π_items p_item(v) by an explicit loop; straight-liners counted by `straight_lining`.
"""

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from surveys.scoring.flags import (
    STRAIGHT_LINING_ALPHA,
    GridCounts,
    best_side_counts,
    plausibility_flags_for_metric,
    straight_lining,
    straight_lining_cells,
    straight_lining_excess,
    straight_lining_flags,
    too_good_to_be_true,
)

TOO_GOOD = ["too_good_to_be_true"]


def test_ceiling_rule_equals_wilson_lower_bound_above_95_percent():
    pairs = [(k, n) for n in (10, 30, 50, 73, 99, 100, 150, 400) for k in range(n - 8, n + 1)]
    best, n = np.array(pairs, dtype=float).T
    expected = [proportion_confint(k, m, alpha=0.05, method="wilson")[0] > 0.95 for k, m in pairs]
    np.testing.assert_array_equal(too_good_to_be_true(best, n), expected)


def test_perfect_scores_fire_from_the_sample_size_edge_not_below():
    assert too_good_to_be_true(99, 99) and too_good_to_be_true(100, 100)
    assert too_good_to_be_true(73, 73) and not too_good_to_be_true(72, 72)
    assert not too_good_to_be_true(30, 30)  # 0.95 ** 30 ≈ 0.21: plausible by chance
    assert not too_good_to_be_true(97, 100)


def test_rate_goal_reached_by_all_is_flagged():
    assert plausibility_flags_for_metric("rate", [[100, 100, 100]]) == [TOO_GOOD]


def test_lower_is_better_rate_at_its_best_is_flagged():
    cells = [[100, 0, 100], [100, 6, 100]]  # 0 % and 6 % complaints
    flags = plausibility_flags_for_metric("rate", cells, higher_is_better=False)
    assert flags == [TOO_GOOD, []]
    assert plausibility_flags_for_metric("rate", cells) == [[], []]  # read as higher-is-better


def test_mean_at_the_scale_end_needs_the_scale():
    ces = [[100, 700.0, 4900.0, 100], [100, 697.0, 4861.0, 100]]  # CES 7.0 and 6.97 on 1-7
    assert plausibility_flags_for_metric("mean", ces, scale=(1, 7)) == [TOO_GOOD, []]
    assert plausibility_flags_for_metric("mean", ces) == [[], []]
    effort = [[100, 100.0, 100.0, 100]]  # all 1 on a lower-is-better 1-5 effort scale
    flags = plausibility_flags_for_metric("mean", effort, higher_is_better=False, scale=(1, 5))
    assert flags == [TOO_GOOD]


def test_best_side_counts_by_hand():
    assert best_side_counts("nps", [[50, 40, 2, 50]]).tolist() == [40.0]
    assert best_side_counts("mean", [[10, 67.0, 0, 10]], scale=(1, 7)) == pytest.approx([7.0])
    assert best_side_counts("mean", [[10, 40.0, 0, 10]], scale=(1, 7)).tolist() == [0.0]
    assert np.isnan(best_side_counts("sum", [[10, 5.0, 3.0, 10]])).all()


def test_small_cells_get_low_n_only():
    flags = plausibility_flags_for_metric("top_box", [[20, 20, 20], [99, 99, 99]])
    assert flags == [["low_n"], TOO_GOOD]


def expected_share_by_loop(counts):
    shares = [row / row.sum() for row in np.asarray(counts, dtype=float)]
    return sum(np.prod([share[v] for share in shares]) for v in range(len(shares[0])))


def grid_counts(grid, values):
    return np.array([[np.sum(column == v) for v in values] for column in grid.T])


def test_honest_grid_with_a_quarter_alike_is_not_flagged():
    rng = np.random.default_rng(3)
    values = [1, 2, 3, 4, 5]
    grid = rng.choice(values, p=[0.0, 0.02, 0.08, 0.6, 0.3], size=(300, 3)).astype(float)
    lined = int(straight_lining(grid).sum())
    counts = grid_counts(grid, values)
    result = straight_lining_excess(counts, lined, 300)
    share, expected = lined / 300, float(result.expected_share)
    print(f"\nhonest 3-item grid: {share:.3f} straight-line, {expected:.3f} expected")
    assert result.expected_share == pytest.approx(expected_share_by_loop(counts), rel=1e-12)
    assert 0.2 < lined / 300 < 0.3 and not result.flagged
    oracle = stats.binomtest(lined, 300, result.expected_share, alternative="greater")
    assert result.p_value == pytest.approx(oracle.pvalue, rel=1e-9)


def test_one_hundred_straight_liners_are_flagged():
    rng = np.random.default_rng(4)
    values = [1, 2, 3, 4, 5]
    honest = rng.choice(values, p=[0.05, 0.1, 0.25, 0.4, 0.2], size=(200, 3))
    lined_values = rng.choice([3, 4, 5], size=100)
    grid = np.vstack([honest, np.repeat(lined_values[:, None], 3, axis=1)]).astype(float)
    lined = int(straight_lining(grid).sum())
    result = straight_lining_excess(grid_counts(grid, values), lined, 300)
    oracle = stats.binomtest(lined, 300, result.expected_share, alternative="greater")
    assert result.p_value == pytest.approx(oracle.pvalue, rel=1e-9)
    assert result.flagged and result.p_value < 1e-12
    all_lined = straight_lining_excess(grid_counts(grid[200:], values), 100, 100)
    assert all_lined.flagged  # a cell of 100 identical respondents


def test_straight_lining_excess_is_vectorised_over_cells():
    rng = np.random.default_rng(5)
    counts = rng.integers(1, 30, size=(4, 3, 5))
    respondents = counts[:, 0, :].sum(axis=1)
    lined = np.round(respondents * np.array([0.05, 0.6, 0.0, 0.2])).astype(int)
    result = straight_lining_excess(counts, lined, respondents)
    for cell in range(4):
        share = expected_share_by_loop(counts[cell])
        oracle = stats.binomtest(int(lined[cell]), int(respondents[cell]), share, "greater")
        assert result.p_value[cell] == pytest.approx(oracle.pvalue, rel=1e-9)
    assert np.isnan(straight_lining_excess(np.zeros((3, 5)), 0, 0).p_value)


def test_old_share_rule_flags_the_honest_grid_the_new_test_clears():
    counts = np.array([[0, 0, 5, 60, 35]] * 3)  # skewed but independent answers
    expected = expected_share_by_loop(counts)
    lined = round(100 * expected)
    assert (
        straight_lining_cells(lined, 100) and not straight_lining_excess(counts, lined, 100).flagged
    )


def test_capped_item_shares_flag_a_grid_of_identical_respondents():
    counts = np.array([[0, 0, 0, 100, 0]] * 3)  # 100 respondents, all 4-4-4
    assert not straight_lining_excess(counts, 100, 100).flagged  # π = 1 without the cap
    capped = straight_lining_excess(counts, 100, 100, max_item_share=0.95)
    oracle = stats.binomtest(100, 100, 0.95**3, alternative="greater")
    assert capped.expected_share == pytest.approx(0.95**3, rel=1e-12)
    assert capped.p_value == pytest.approx(oracle.pvalue, rel=1e-9) and capped.flagged
    assert not straight_lining_excess(counts * 29 // 100, 29, 29, max_item_share=0.95).flagged
    assert straight_lining_excess(counts * 30 // 100, 30, 30, max_item_share=0.95).flagged


def test_straight_lining_flags_need_enough_respondents_and_share_alpha_across_grids():
    counts = np.array([[[0, 0, 0, 9, 0]] * 3])
    assert not straight_lining_flags([GridCounts(np.array([9.0]), np.array([9.0]), counts)])
    # 14 of 30 against π = 0.25: p = 0.0082 clears alpha = 0.01 alone, not alpha / 2 when
    # the metric has two grids (Bonferroni)
    share = np.array([[[0, 0, 0, 15, 15]] * 3])  # π = 0.5³ + 0.5³ = 0.25
    p = stats.binomtest(14, 30, 0.25, alternative="greater").pvalue
    assert STRAIGHT_LINING_ALPHA / 2 < p < STRAIGHT_LINING_ALPHA
    one = GridCounts(np.array([30.0]), np.array([14.0]), share)
    quiet = GridCounts(np.array([30.0]), np.array([0.0]), share)
    assert straight_lining_flags([one])[0] and not straight_lining_flags([one, quiet])[0]


def simulated_cell(rng):
    """Independent answers to a grid: item distributions around a skewed common profile."""
    respondents = int(rng.choice([10, 15, 20, 30, 50, 100, 200]))
    items = int(rng.choice([3, 4, 5]))
    profile = rng.dirichlet([0.5, 1, 2, 4, 3])
    grid = np.column_stack(
        [rng.choice(5, p=rng.dirichlet(30 * profile), size=respondents) for _ in range(items)]
    )
    counts = np.zeros((1, items, 5))
    for item in range(items):
        counts[0, item] = np.bincount(grid[:, item], minlength=5)
    lined = np.array([float(straight_lining(grid).sum())])
    return GridCounts(np.array([float(respondents)]), lined, counts)


def test_independent_answers_are_flagged_at_most_at_alpha():
    rng = np.random.default_rng(2026)
    flagged = [bool(straight_lining_flags([simulated_cell(rng)])[0]) for _ in range(1000)]
    rate = float(np.mean(flagged))
    print(f"\nstraight-lining flag on 1,000 cells of independent answers: {rate:.3f} (alpha 0.01)")
    assert rate <= STRAIGHT_LINING_ALPHA + 2.33 * np.sqrt(0.01 * 0.99 / 1000)
