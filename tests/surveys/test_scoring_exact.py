"""Exact / permutation tests of a change between two small independent groups.

Oracles: scipy.stats.permutation_test with n_resamples=inf (every split) on the +1/0/-1 codes
and on raw answers; scipy.stats.fisher_exact; the Freeman–Halton exact p of the issue's 2×3
table enumerated by hand with math.comb; the adjusted-Wald difference by hand.
"""

import math

import numpy as np
import pytest
from scipy import stats

from surveys.scoring.comparisons import compare
from surveys.scoring.exact import (
    compare_exact,
    compare_small_sample,
    exact_test_needed,
    fisher_exact_p,
    mean_permutation_p,
    nps_permutation_p,
)
from surveys.scoring.means import mean_interval_from_values
from surveys.scoring.net_promoter import nps
from surveys.scoring.proportions import top_box


def codes(promoters: int, passives: int, detractors: int) -> np.ndarray:
    return np.repeat([1.0, 0.0, -1.0], [promoters, passives, detractors])


def scipy_permutation_p(first: np.ndarray, second: np.ndarray) -> float:
    def difference(x, y, axis):
        return np.mean(y, axis=axis) - np.mean(x, axis=axis)

    result = stats.permutation_test(
        (first, second), difference, permutation_type="independent", n_resamples=np.inf
    )
    return float(result.pvalue)


def freeman_halton_2x3(first: tuple, second: tuple) -> float:
    columns = np.add(first, second)
    size, total = sum(first), int(columns.sum())

    def probability(row):
        return math.prod(math.comb(int(c), r) for c, r in zip(columns, row, strict=True)) / (
            math.comb(total, size)
        )

    observed = probability(first)
    tables = [
        (a, b, size - a - b)
        for a in range(columns[0] + 1)
        for b in range(columns[1] + 1)
        if 0 <= size - a - b <= columns[2]
    ]
    return sum(p for t in tables if (p := probability(t)) <= observed * (1 + 1e-7))


def test_issue_enps_case_exact_p_is_0_18_not_0_028():
    approximate = compare(nps(6, 0, 0), nps(3, 2, 1))
    assert approximate.p_value == pytest.approx(0.028, abs=5e-4)
    exact = compare_exact(nps(6, 0, 0), nps(3, 2, 1))
    assert exact.p_value == pytest.approx(2 / 11, rel=1e-12)
    assert exact.p_value == pytest.approx(scipy_permutation_p(codes(6, 0, 0), codes(3, 2, 1)))
    assert exact.p_value == pytest.approx(freeman_halton_2x3((6, 0, 0), (3, 2, 1)), rel=1e-9)
    assert exact.significant is False and approximate.significant is True
    assert "permutation" in exact.method and exact.difference == pytest.approx(-200 / 3)


@pytest.mark.parametrize("sizes", [(5, 7), (8, 9), (12, 4), (9, 6)])
def test_nps_permutation_p_matches_scipy_every_split(sizes):
    rng = np.random.default_rng(sum(sizes))
    groups = []
    for size in sizes:
        counts = rng.multinomial(size, [0.45, 0.3, 0.25])
        groups.append(tuple(int(c) for c in counts))
    expected = scipy_permutation_p(codes(*groups[0]), codes(*groups[1]))
    assert nps_permutation_p(groups[0], groups[1]) == pytest.approx(expected, rel=1e-9)


def test_nps_adjusted_wald_difference_interval_by_hand():
    change = compare_exact(nps(6, 0, 0), nps(3, 2, 1))
    var_first = (7.5 / 9 - (6 / 9) ** 2) / 9  # 6.75 P, 1.5 A, 0.75 D over 9
    var_second = (5.5 / 9 - (2 / 9) ** 2) / 9  # 3.75 P, 3.5 A, 1.75 D over 9
    se = 100 * math.sqrt(var_first + var_second)
    centre = 100 * (2 / 9 - 6 / 9)
    assert change.se == pytest.approx(se, rel=1e-12)
    assert change.ci_low == pytest.approx(centre - 1.959963984540054 * se, rel=1e-12)
    assert change.ci_high == pytest.approx(centre + 1.959963984540054 * se, rel=1e-12)


@pytest.mark.parametrize(
    "table",
    [((3, 10), (9, 10)), ((0, 12), (5, 8)), ((7, 7), (2, 9)), ((4, 20), (4, 20)), ((1, 3), (2, 6))],
)
def test_fisher_exact_p_matches_scipy(table):
    (k1, n1), (k2, n2) = table
    expected = stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
    assert fisher_exact_p((k1, n1), (k2, n2)) == pytest.approx(expected, rel=1e-9)


def test_fisher_exact_p_matches_scipy_on_seeded_tables():
    rng = np.random.default_rng(7)
    for _ in range(200):
        n1, n2 = rng.integers(1, 40, size=2)
        k1, k2 = rng.integers(0, n1 + 1), rng.integers(0, n2 + 1)
        expected = stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
        assert fisher_exact_p((int(k1), int(n1)), (int(k2), int(n2))) == pytest.approx(
            expected, rel=1e-9
        )


def test_compare_exact_top_box_uses_fisher_with_newcombe_interval():
    change = compare_exact(top_box(3, 10), top_box(9, 10))
    newcombe = compare(top_box(3, 10), top_box(9, 10))
    assert change.p_value == pytest.approx(stats.fisher_exact([[3, 7], [9, 1]]).pvalue, rel=1e-9)
    assert (change.ci_low, change.ci_high) == (newcombe.ci_low, newcombe.ci_high)
    assert change.method.startswith("Fisher's exact test")


def test_mean_permutation_p_matches_scipy_every_split():
    rng = np.random.default_rng(21)
    first = rng.integers(1, 8, size=7).astype(float)
    second = rng.integers(2, 8, size=9).astype(float)
    p_value, exact = mean_permutation_p(first, second)
    assert exact is True
    assert p_value == pytest.approx(scipy_permutation_p(first, second), rel=1e-9)


def test_mean_permutation_p_monte_carlo_agrees_with_exact_within_error():
    rng = np.random.default_rng(5)
    first = rng.normal(5.0, 1.0, size=14)
    second = rng.normal(5.6, 1.0, size=15)  # C(29, 14) = 77.6 million splits
    p_value, exact = mean_permutation_p(first, second, rng=np.random.default_rng(1))
    assert exact is False
    # Asymptotically the permutation test is the pooled t test; Monte Carlo SE ≈ 0.003.
    pooled_t = stats.ttest_ind(second, first).pvalue
    assert p_value == pytest.approx(pooled_t, abs=0.02)


def test_mean_permutation_without_rng_for_many_splits_falls_back_with_warning():
    rng = np.random.default_rng(5)
    first, second = rng.normal(size=14), rng.normal(size=15)
    change = compare_exact(first, second)
    assert "permutation_needs_rng" in change.warnings and change.method == "Welch t-test"


def test_p_exactly_alpha_from_an_exact_test_is_not_significant():
    first, second = [5.0, 7.0, 7.0], [2.0, 4.0, 1.0, 1.0, 5.0, 1.0, 6.0]  # 3 of 120 splits
    assert scipy_permutation_p(np.array(first), np.array(second)) == 0.05
    change = compare_exact(first, second)
    assert change.p_value == 0.05 and change.significant is False
    assert change.method.startswith("exact permutation test")


def test_compare_exact_of_mean_results_needs_values():
    change = compare_exact(mean_interval_from_values([1, 2, 3]), mean_interval_from_values([4, 5]))
    assert "permutation_needs_values" in change.warnings


def test_exact_test_needed_rule():
    assert exact_test_needed(nps(6, 0, 0), nps(3, 2, 1))  # n < 30
    assert not exact_test_needed(nps(90, 60, 50), nps(120, 70, 60))
    assert exact_test_needed(nps(100, 97, 3), nps(100, 99, 1))  # 4 detractors: expected 2
    assert not exact_test_needed(nps(100, 100, 0), nps(100, 100, 0))  # absent category
    assert exact_test_needed(top_box(38, 40), top_box(39, 40))  # expected misses 1.5
    assert not exact_test_needed(top_box(170, 200), top_box(190, 250))
    assert exact_test_needed(
        mean_interval_from_values(range(29)), mean_interval_from_values(range(40))
    )


def test_compare_small_sample_switches_by_the_rule():
    small = compare_small_sample(nps(6, 0, 0), nps(3, 2, 1))
    large = compare_small_sample(nps(90, 60, 50), nps(120, 70, 60))
    assert small.method.startswith("exact permutation") and large.method.startswith("NPS z-test")
    assert large == compare(nps(90, 60, 50), nps(120, 70, 60))
    values = compare_small_sample([4.0, 5.0, 7.0, 6.0], [2.0, 3.0, 3.0, 4.0, 1.0])
    assert values.method.startswith("exact permutation test")


def test_compare_exact_without_answers_is_untested():
    change = compare_exact(nps(0, 0, 0), nps(3, 2, 1))
    assert change.p_value is None and "no_data" in change.warnings
    change = compare_exact(top_box(0, 0), top_box(3, 4))
    assert change.p_value is None and change.significant is False


def test_compare_exact_rejects_fractional_counts():
    change = compare_exact(nps(6.5, 0, 0), nps(3, 2, 1))
    assert change.p_value is None and "non_integer_counts" in change.warnings
