"""Change tests between two independent periods or groups (second minus first).

Oracles: STATISTICS.md §1.5 (NPS change, CSAT change, CES Welch) as literals; the +1/0/-1
coded answers with numpy and scipy.stats.norm; statsmodels `proportions_ztest` and
`confint_proportions_2indep(method="newcomb")`; scipy `ttest_ind(equal_var=False)`.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from surveys.scoring import compare, mean_interval_from_values, nps, top_box

CES_PERIOD_1 = np.repeat([7, 6, 5, 4, 3, 2, 1], [30, 40, 20, 5, 3, 1, 1]).astype(float)
CES_PERIOD_2 = np.repeat([7, 6, 5, 4, 3, 2, 1], [25, 35, 25, 8, 4, 2, 1]).astype(float)
counts = st.integers(min_value=0, max_value=300)


def test_compare_nps_change_matches_worked_example():
    change = compare(nps(90, 60, 50), nps(120, 70, 60))
    assert change.difference == pytest.approx(4.00, abs=5e-3)
    assert change.se == pytest.approx(7.7134, abs=5e-5)
    assert change.statistic == pytest.approx(0.5186, abs=5e-5)
    assert change.p_value == pytest.approx(0.6041, abs=5e-5)
    assert (change.ci_low, change.ci_high) == (
        pytest.approx(-11.12, abs=5e-3),
        pytest.approx(19.12, abs=5e-3),
    )
    assert change.significant is False and change.df is None


def test_compare_nps_matches_coded_answers_on_seeded_data():
    rng = np.random.default_rng(99)
    first = np.select([rng.random(300) < 0.45, rng.random(300) < 0.3], [1.0, -1.0], 0.0)
    second = np.select([rng.random(500) < 0.55, rng.random(500) < 0.2], [1.0, -1.0], 0.0)
    results = [
        nps(int((codes == 1).sum()), int((codes == 0).sum()), int((codes == -1).sum()))
        for codes in (first, second)
    ]
    change = compare(*results, confidence=0.9)
    difference = 100 * (second.mean() - first.mean())
    se = 100 * math.sqrt(first.var() / first.size + second.var() / second.size)
    low, high = stats.norm.interval(0.9, loc=difference, scale=se)
    assert change.difference == pytest.approx(difference, rel=1e-9)
    assert change.se == pytest.approx(se, rel=1e-9)
    assert change.p_value == pytest.approx(2 * stats.norm.sf(abs(difference / se)), rel=1e-9)
    assert (change.ci_low, change.ci_high) == (
        pytest.approx(low, rel=1e-9),
        pytest.approx(high, rel=1e-9),
    )
    assert change.significant is (change.p_value < 0.1)


def test_compare_nps_ignores_finite_population_correction_and_warns():
    change = compare(nps(90, 60, 50, population=400), nps(120, 70, 60, population=400))
    assert change.se == pytest.approx(7.7134, abs=5e-5)
    assert "fpc_ignored" in change.warnings


def test_compare_proportions_match_csat_worked_example():
    change = compare(top_box(190, 250), top_box(170, 200))
    assert change.difference == pytest.approx(9.0, abs=1e-9)
    assert change.statistic == pytest.approx(2.3717, abs=5e-5)
    assert change.p_value == pytest.approx(0.0177, abs=5e-5)
    assert change.ci_low == pytest.approx(1.5711, abs=5e-5)  # Newcombe [0.015711, 0.161016]
    assert change.ci_high == pytest.approx(16.1016, abs=5e-5)
    assert change.significant is True


def test_compare_proportions_significance_follows_confidence():
    change = compare(top_box(190, 250), top_box(170, 200), confidence=0.99)
    assert change.p_value == pytest.approx(0.0177, abs=5e-5)
    assert change.significant is False


def test_compare_proportions_match_statsmodels_on_seeded_counts():
    rng = np.random.default_rng(2024)
    for _ in range(50):
        n_first, n_second = rng.integers(5, 3000, size=2)
        k_first = int(rng.binomial(n_first, rng.uniform(0.05, 0.95)))
        k_second = int(rng.binomial(n_second, rng.uniform(0.05, 0.95)))
        confidence = float(rng.choice([0.9, 0.95, 0.99]))
        change = compare(
            top_box(k_first, n_first), top_box(k_second, n_second), confidence=confidence
        )
        statistic, p_value = proportions_ztest([k_second, k_first], [n_second, n_first])
        low, high = confint_proportions_2indep(
            k_second, n_second, k_first, n_first, method="newcomb", alpha=1 - confidence
        )
        assert change.statistic == pytest.approx(statistic, rel=1e-9)
        assert change.p_value == pytest.approx(p_value, rel=1e-9)
        assert change.ci_low == pytest.approx(100 * low, rel=1e-9, abs=1e-9)
        assert change.ci_high == pytest.approx(100 * high, rel=1e-9, abs=1e-9)


def test_compare_proportions_reports_unpooled_standard_error():
    change = compare(top_box(190, 250), top_box(170, 200))
    assert change.se == pytest.approx(100 * math.sqrt(0.85 * 0.15 / 200 + 0.76 * 0.24 / 250))


def test_compare_means_match_ces_welch_worked_example():
    change = compare(
        mean_interval_from_values(CES_PERIOD_1), mean_interval_from_values(CES_PERIOD_2)
    )
    assert change.difference == pytest.approx(-0.23, abs=1e-9)
    assert change.statistic == pytest.approx(-1.3371, abs=5e-5)
    assert change.df == pytest.approx(196.74, abs=5e-3)
    assert change.p_value == pytest.approx(0.1827, abs=5e-5)
    assert "Welch" in change.method


def test_compare_means_match_scipy_welch_on_seeded_data():
    rng = np.random.default_rng(17)
    for sizes, confidence in (((8, 30), 0.95), ((150, 60), 0.9), ((2, 3), 0.99)):
        first = rng.normal(4.0, 1.0, size=sizes[0])
        second = rng.normal(4.4, 2.0, size=sizes[1])
        change = compare(
            mean_interval_from_values(first),
            mean_interval_from_values(second),
            confidence=confidence,
        )
        oracle = stats.ttest_ind(second, first, equal_var=False)
        interval = oracle.confidence_interval(confidence)
        assert change.statistic == pytest.approx(oracle.statistic, rel=1e-9)
        assert change.p_value == pytest.approx(oracle.pvalue, rel=1e-9)
        assert change.df == pytest.approx(oracle.df, rel=1e-9)
        assert change.ci_low == pytest.approx(interval.low, rel=1e-9)
        assert change.ci_high == pytest.approx(interval.high, rel=1e-9)


def test_compare_means_with_single_answer_is_not_tested():
    change = compare(mean_interval_from_values([4.0]), mean_interval_from_values([3.0, 5.0]))
    assert change.p_value is None and change.significant is False
    assert "no_interval" in change.warnings


def test_compare_rejects_results_of_different_kinds():
    with pytest.raises(ValueError, match="NpsResult and ProportionResult"):
        compare(nps(90, 60, 50), top_box(170, 200))


def test_compare_rejects_unsupported_results():
    with pytest.raises(TypeError):
        compare(3.0, 4.0)


def test_compare_without_data_in_one_period_warns_no_data():
    change = compare(nps(0, 0, 0), nps(120, 70, 60))
    assert change.difference is None and change.p_value is None
    assert change.significant is False and "no_data" in change.warnings


def test_compare_with_a_small_group_warns_low_n():
    change = compare(nps(9, 0, 2), nps(90, 60, 50))
    assert change.p_value is not None and change.warnings == ("low_n",)


def test_compare_identical_unanimous_groups_has_zero_variance():
    change = compare(top_box(10, 10), top_box(20, 20))
    assert change.difference == 0.0 and change.statistic is None
    assert "zero_variance" in change.warnings and change.significant is False


@given(counts, counts, counts, counts, counts, counts)
def test_compare_nps_is_antisymmetric_and_interval_contains_difference(a, b, c, d, e, f):
    first, second = nps(a, b, c), nps(d, e, f)
    forward, backward = compare(first, second), compare(second, first)
    if forward.p_value is None:
        assert backward.p_value is None
        return
    assert forward.difference == pytest.approx(-backward.difference, abs=1e-9)
    assert forward.p_value == pytest.approx(backward.p_value, rel=1e-12)
    assert forward.ci_low <= forward.difference <= forward.ci_high
    assert forward.ci_low >= -200.0 and forward.ci_high <= 200.0


@given(st.integers(1, 500), st.integers(1, 500), st.floats(0, 1), st.floats(0, 1))
def test_compare_proportions_newcombe_interval_contains_difference(n1, n2, share1, share2):
    change = compare(top_box(round(n1 * share1), n1), top_box(round(n2 * share2), n2))
    if change.ci_low is not None:
        assert change.ci_low <= change.difference + 1e-9
        assert change.difference - 1e-9 <= change.ci_high
        assert change.ci_low >= -100.0 and change.ci_high <= 100.0
