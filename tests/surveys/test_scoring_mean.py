"""Means from sufficient statistics (t interval) and the 0-100 favourability index.

Oracles: STATISTICS.md §1.5 CES values as literals; scipy.stats.t.interval, scipy.stats.sem
and numpy's ddof=1 standard deviation on seeded data.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from surveys.scoring import (
    favourability_index,
    mean_interval,
    mean_interval_arrays,
    mean_interval_from_sums,
    mean_interval_from_values,
)

CES_PERIOD_1 = np.repeat([7, 6, 5, 4, 3, 2, 1], [30, 40, 20, 5, 3, 1, 1]).astype(float)
CES_PERIOD_2 = np.repeat([7, 6, 5, 4, 3, 2, 1], [25, 35, 25, 8, 4, 2, 1]).astype(float)
answers = st.lists(st.integers(min_value=1, max_value=7), min_size=0, max_size=60)


def sums(values: np.ndarray) -> tuple[int, float, float]:
    return len(values), float(values.sum()), float((values**2).sum())


def test_mean_interval_matches_ces_worked_example():
    first = mean_interval(*sums(CES_PERIOD_1))
    second = mean_interval(*sums(CES_PERIOD_2))
    assert first.value == pytest.approx(5.82, abs=1e-12)
    assert first.sd == pytest.approx(1.1667, abs=5e-5)
    assert (first.ci_low, first.ci_high) == (
        pytest.approx(5.5885, abs=5e-5),
        pytest.approx(6.0515, abs=5e-5),
    )
    assert second.sd == pytest.approx(1.2641, abs=5e-5)
    assert (second.ci_low, second.ci_high) == (
        pytest.approx(5.3392, abs=5e-5),
        pytest.approx(5.8408, abs=5e-5),
    )


def test_mean_interval_from_sums_accepts_database_sums():
    result = mean_interval_from_sums(100, 582.0, 3522.0)  # CES period 1: SUM, SUM of squares
    assert result.value == pytest.approx(5.82, abs=1e-12)
    assert result.ci_low == pytest.approx(5.5885, abs=5e-5)


def test_mean_interval_matches_scipy_t_interval_on_seeded_data():
    rng = np.random.default_rng(31)
    for size, confidence in ((2, 0.95), (12, 0.9), (250, 0.99)):
        values = rng.normal(loc=3.7, scale=1.3, size=size)
        result = mean_interval(*sums(values), confidence=confidence)
        low, high = stats.t.interval(
            confidence, size - 1, loc=values.mean(), scale=stats.sem(values)
        )
        assert result.value == pytest.approx(values.mean(), rel=1e-9)
        assert result.sd == pytest.approx(values.std(ddof=1), rel=1e-9)
        assert result.se == pytest.approx(stats.sem(values), rel=1e-9)
        assert (result.ci_low, result.ci_high) == (
            pytest.approx(low, rel=1e-9),
            pytest.approx(high, rel=1e-9),
        )


def test_mean_interval_from_values_excludes_nan_and_warns():
    rng = np.random.default_rng(5)
    values = rng.integers(1, 8, size=80).astype(float)
    values[[3, 17, 60]] = np.nan
    kept = values[~np.isnan(values)]
    result = mean_interval_from_values(values)
    low, high = stats.t.interval(0.95, kept.size - 1, loc=kept.mean(), scale=stats.sem(kept))
    assert result.n == 77 and "nan_excluded" in result.warnings
    assert result.value == pytest.approx(kept.mean(), rel=1e-12)
    assert result.ci_low == pytest.approx(low, rel=1e-9)
    assert result.ci_high == pytest.approx(high, rel=1e-9)


def test_mean_interval_from_values_keeps_variance_of_large_offsets():
    rng = np.random.default_rng(11)
    values = 1e9 + rng.normal(scale=0.5, size=500)  # e.g. revenue: large level, small spread
    result = mean_interval_from_values(values)
    assert result.sd == pytest.approx(values.std(ddof=1), rel=1e-6)
    assert result.value == pytest.approx(values.mean(), rel=1e-12)


def test_mean_interval_guards_negative_variance_from_rounding():
    values = [0.7] * 7
    total, total_squares = sum(values), sum(value * value for value in values)
    assert total_squares - total * total / 7 < 0  # the naive variance is negative here
    result = mean_interval(7, total, total_squares)
    assert result.sd == 0.0 and result.ci_low == result.ci_high
    assert "zero_variance" in result.warnings


def test_mean_interval_treats_rounding_residue_as_zero_variance():
    values = [0.1] * 10
    total, total_squares = sum(values), sum(value * value for value in values)
    assert total_squares - total * (total / 10) > 0  # a spurious positive residue
    assert mean_interval(10, total, total_squares).sd == 0.0


def test_mean_interval_single_answer_has_no_interval():
    result = mean_interval(1, 4.0, 16.0)
    assert result.value == 4.0
    assert result.sd is None and result.ci_low is None and result.ci_high is None
    assert "no_interval" in result.warnings and "low_n" in result.warnings


def test_mean_interval_without_answers_returns_none():
    result = mean_interval(0, 0.0, 0.0)
    assert result.value is None and result.warnings == ("no_data",)


def test_mean_interval_non_finite_sums_are_invalid():
    result = mean_interval(10, float("nan"), 30.0)
    assert result.value is None and result.warnings == ("invalid_counts",)


def test_mean_interval_arrays_leave_cells_below_two_answers_without_interval():
    cells = mean_interval_arrays([0, 1, 100], [0.0, 5.0, 582.0], [0.0, 25.0, 3522.0])
    assert np.isnan(cells.value[0]) and cells.value[1] == 5.0
    assert np.isnan([cells.sd[1], cells.ci_low[1], cells.ci_high[0]]).all()
    assert cells.ci_low[2] == pytest.approx(5.5885, abs=5e-5)


def test_mean_interval_finite_population_correction_shrinks_se():
    rng = np.random.default_rng(3)
    values = rng.integers(1, 6, size=30).astype(float)
    result = mean_interval(*sums(values), population=40)
    expected_se = stats.sem(values) * math.sqrt(10 / 39)
    assert result.se == pytest.approx(expected_se, rel=1e-9)
    critical = stats.t.ppf(0.975, 29)
    assert result.ci_high == pytest.approx(values.mean() + critical * expected_se, rel=1e-9)


@given(answers)
def test_mean_interval_contains_mean(values):
    result = mean_interval_from_values(np.array(values, dtype=float))
    if len(values) >= 2:
        assert result.ci_low <= result.value <= result.ci_high
    else:
        assert result.ci_low is None


@given(st.lists(answers, min_size=1, max_size=10))
def test_mean_interval_arrays_equal_scalar_version_per_cell(groups):
    statistics = np.array([sums(np.array(group, dtype=float)) for group in groups])
    arrays = mean_interval_arrays(statistics[:, 0], statistics[:, 1], statistics[:, 2])
    for index, row in enumerate(statistics):
        scalar = mean_interval(*row)
        for name in ("value", "sd", "se", "ci_low", "ci_high"):
            expected, actual = getattr(scalar, name), getattr(arrays, name)[index]
            assert math.isnan(actual) if expected is None else actual == expected


def test_favourability_index_maps_five_point_scale_to_quarters():
    index = favourability_index(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 1, 5)
    np.testing.assert_allclose(index, [0.0, 25.0, 50.0, 75.0, 100.0], atol=1e-12)


def test_favourability_index_of_ces_mean_on_seven_point_scale():
    assert favourability_index(5.82, 1, 7) == pytest.approx(80.3333, abs=5e-5)
    assert isinstance(favourability_index(5.82, 1, 7), float)


def test_favourability_index_rejects_empty_scale():
    with pytest.raises(ValueError, match="scale_max"):
        favourability_index(3.0, 5, 5)
