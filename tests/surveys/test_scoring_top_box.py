"""Top-box shares and rates (Wilson score interval) and answer distributions.

Oracles: STATISTICS.md §1.5 CSAT values as literals; statsmodels `proportion_confint(method=
"wilson")` and scipy `binomtest(...).proportion_ci(method="wilson")` on seeded counts.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from surveys.scoring import distribution, proportion, top_box, top_box_arrays

sizes = st.integers(min_value=0, max_value=2000)


def test_top_box_wilson_matches_csat_worked_example():
    result = top_box(170, 200)
    assert result.value == pytest.approx(85.0, abs=1e-12)
    assert result.ci_low == pytest.approx(79.3944, abs=5e-5)
    assert result.ci_high == pytest.approx(89.2864, abs=5e-5)
    assert result.se == pytest.approx(100 * math.sqrt(0.85 * 0.15 / 200), rel=1e-12)
    assert (result.n, result.k, result.warnings) == (200, 170, ())


def test_top_box_wilson_at_one_hundred_percent_does_not_collapse():
    result = top_box(10, 10)
    assert result.value == 100.0
    assert result.ci_low == pytest.approx(72.2467, abs=5e-5)
    assert result.ci_high == 100.0  # Wald would give [100, 100]
    assert result.warnings == ("low_n",)


def test_top_box_wilson_at_zero_percent_starts_at_zero():
    result = top_box(0, 10)
    assert result.ci_low == 0.0
    assert result.ci_high == pytest.approx(100 - 72.2467, abs=5e-5)


def test_top_box_matches_statsmodels_wilson_on_seeded_counts():
    rng = np.random.default_rng(7)
    n = rng.integers(1, 5000, size=300)
    k = rng.binomial(n, rng.uniform(0, 1, size=300))
    for confidence in (0.8, 0.95, 0.99):
        cells = top_box_arrays(k, n, confidence=confidence)
        low, high = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
        np.testing.assert_allclose(cells.ci_low, 100 * low, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(cells.ci_high, 100 * high, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(cells.value, 100 * k / n, rtol=1e-12)


def test_top_box_matches_scipy_binomtest_wilson():
    interval = stats.binomtest(37, 52).proportion_ci(confidence_level=0.9, method="wilson")
    result = top_box(37, 52, confidence=0.9)
    assert result.ci_low == pytest.approx(100 * interval.low, rel=1e-9)
    assert result.ci_high == pytest.approx(100 * interval.high, rel=1e-9)


def test_proportion_scores_rate_of_yes_answers():
    result = proportion(30, 40)
    low, high = proportion_confint(30, 40, method="wilson")
    assert result.value == pytest.approx(75.0, abs=1e-12)
    assert (result.ci_low, result.ci_high) == (
        pytest.approx(100 * low, rel=1e-9),
        pytest.approx(100 * high, rel=1e-9),
    )


def test_top_box_finite_population_uses_effective_sample_size():
    # Polaris MR: n_adj = (N - 1)·n / (N - n); N = 40, n = 30 → 117.
    result = top_box(24, 30, population=40)
    low, high = proportion_confint(0.8 * 117, 117, method="wilson")
    assert result.ci_low == pytest.approx(100 * low, rel=1e-9)
    assert result.ci_high == pytest.approx(100 * high, rel=1e-9)
    assert result.se == pytest.approx(100 * math.sqrt(0.8 * 0.2 / 30 * 10 / 39), rel=1e-9)


def test_top_box_census_has_zero_width_interval():
    result = top_box(24, 30, population=30)
    assert result.ci_low == pytest.approx(80.0, abs=1e-9)
    assert result.ci_high == pytest.approx(80.0, abs=1e-9)


def test_top_box_without_answers_returns_none_with_no_data_warning():
    result = top_box(0, 0)
    assert result.value is None and result.ci_low is None and result.se is None
    assert result.warnings == ("no_data",)


def test_top_box_more_hits_than_answers_is_invalid():
    result = top_box(12, 10)
    assert result.value is None and result.warnings == ("invalid_counts",)
    cells = top_box_arrays([12, 5], [10, 10])
    assert np.isnan(cells.value[0]) and cells.value[1] == 50.0


@given(sizes, st.floats(0, 1), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_top_box_interval_contains_estimate_and_stays_in_percent_range(n, share, confidence):
    k = round(n * share)
    result = top_box(k, n, confidence=confidence)
    if n == 0:
        assert result.value is None
        return
    assert 0.0 <= result.ci_low <= result.value <= result.ci_high <= 100.0


@given(st.lists(st.tuples(sizes, st.floats(0, 1)), min_size=1, max_size=20))
def test_top_box_arrays_equal_scalar_version_per_cell(cells):
    n = np.array([size for size, _ in cells])
    k = np.array([round(size * share) for size, share in cells])
    arrays = top_box_arrays(k, n)
    for index in range(len(cells)):
        scalar = top_box(int(k[index]), int(n[index]))
        for name in ("value", "se", "ci_low", "ci_high"):
            expected, actual = getattr(scalar, name), getattr(arrays, name)[index]
            assert math.isnan(actual) if expected is None else actual == expected


def test_distribution_counts_and_shares_per_category():
    result = distribution([1, 2, 2, 5, 5, 5, np.nan, 9], categories=[1, 2, 3, 4, 5])
    assert result.counts == (1, 2, 0, 0, 3)
    assert result.shares == pytest.approx((100 / 6, 200 / 6, 0.0, 0.0, 50.0), rel=1e-12)
    assert (result.n, result.excluded, result.warnings) == (6, 2, ())


def test_distribution_of_text_choices():
    result = distribution(["yes", "no", "yes", "maybe"], categories=("yes", "no"))
    assert result.counts == (2, 1) and result.excluded == 1
    assert result.shares == pytest.approx((200 / 3, 100 / 3), rel=1e-12)


def test_distribution_without_matching_answers_warns_no_data():
    result = distribution([np.nan, 7], categories=[1, 2])
    assert result.shares == (None, None) and result.warnings == ("no_data",)


def test_distribution_rejects_repeated_categories():
    with pytest.raises(ValueError, match="distinct"):
        distribution([1, 2], categories=[1, 1])
