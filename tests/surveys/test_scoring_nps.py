"""NPS / eNPS scoring: counts, trinomial SE, Wald and adjusted-Wald intervals, FPC.

Oracles: the worked values of STATISTICS.md §1.5 as literals (tolerance = half a unit of the
last printed digit) and the +1/0/-1 coded answers summarised by numpy and scipy.stats.norm.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from surveys.scoring import NPS_DETRACTOR_MAX, NPS_PROMOTER_MIN, enps, nps, nps_arrays, nps_counts

counts = st.integers(min_value=0, max_value=400)


def coded_answers(rng: np.random.Generator, size: int) -> np.ndarray:
    scores = rng.integers(0, 11, size=size)
    return np.select([scores >= 9, scores <= 6], [1.0, -1.0], 0.0)


def test_nps_counts_uses_default_cut_offs_and_excludes_missing_and_out_of_scale():
    scores = [0, 6, 7, 8, 9, 10, np.nan, 11, -1, 10]
    assert (NPS_PROMOTER_MIN, NPS_DETRACTOR_MAX) == (9, 6)
    assert nps_counts(scores) == (3, 2, 2)


def test_nps_counts_respects_configured_cut_offs():
    assert nps_counts([0, 5, 6, 7, 8, 9, 10], promoter_min=8, detractor_max=5) == (3, 2, 2)


def test_nps_counts_rejects_overlapping_cut_offs():
    with pytest.raises(ValueError, match="detractor_max"):
        nps_counts([5], promoter_min=6, detractor_max=6)


def test_nps_interval_matches_trinomial_worked_example():
    result = nps(90, 60, 50)
    assert result.value == pytest.approx(20.0, abs=1e-12)
    assert result.n == 200
    assert result.se == pytest.approx(5.7446, abs=5e-5)  # SE 0.057446
    assert result.ci_high - result.value == pytest.approx(11.2591, abs=5e-5)  # MoE95 0.112591
    assert result.ci_low == pytest.approx(8.74, abs=5e-3)
    assert result.ci_high == pytest.approx(31.26, abs=5e-3)
    assert result.warnings == ()


def test_nps_adjusted_wald_matches_worked_example():
    result = nps(90, 60, 50)
    z = stats.norm.ppf(0.975)
    assert (result.adjusted_low + result.adjusted_high) / 2 == pytest.approx(19.70, abs=5e-3)
    half_width = (result.adjusted_high - result.adjusted_low) / 2
    assert half_width / z == pytest.approx(5.6943, abs=5e-5)  # SE 0.056943, n_adj 203
    assert result.adjusted_low == pytest.approx(8.54, abs=5e-3)
    assert result.adjusted_high == pytest.approx(30.86, abs=5e-3)


def test_nps_interval_is_not_the_independent_binomials_pitfall():
    result = nps(250, 675, 75)
    assert result.value == pytest.approx(17.50, abs=5e-3)
    assert result.se == pytest.approx(1.7157, abs=5e-5)
    assert (result.ci_low, result.ci_high) == (
        pytest.approx(14.14, abs=5e-3),
        pytest.approx(20.86, abs=5e-3),
    )
    assert result.se != pytest.approx(1.6027, abs=5e-3)  # independent binomials: too narrow


def test_nps_matches_r_nps_ci_anchor_with_clipped_upper_bound():
    result = nps(9, 0, 2)  # nps.ci(np = 9, nd = 2, n = 11)
    assert result.value == pytest.approx(63.64, abs=5e-3)
    assert result.se == pytest.approx(23.2583, abs=5e-5)
    assert result.ci_low == pytest.approx(18.05, abs=5e-3)
    assert result.ci_high == 100.0
    assert "low_n" in result.warnings


def test_nps_matches_coded_answers_on_seeded_data():
    rng = np.random.default_rng(20240611)
    for size in (37, 400, 2500):
        codes = coded_answers(rng, size)
        promoters, detractors = int((codes == 1).sum()), int((codes == -1).sum())
        result = nps(promoters, size - promoters - detractors, detractors, confidence=0.9)
        se = 100 * codes.std(ddof=0) / math.sqrt(size)
        low, high = stats.norm.interval(0.9, loc=100 * codes.mean(), scale=se)
        assert result.value == pytest.approx(100 * codes.mean(), rel=1e-9, abs=1e-9)
        assert result.se == pytest.approx(se, rel=1e-9)
        assert result.ci_low == pytest.approx(max(low, -100), rel=1e-9, abs=1e-9)
        assert result.ci_high == pytest.approx(min(high, 100), rel=1e-9, abs=1e-9)


def test_nps_finite_population_correction_matches_worked_example():
    # N = 40 employees, n = 30 answers, var = .66 (pP = pD = 0.33): SE 0.1483 → 0.0751.
    without = nps(9.9, 10.2, 9.9)
    corrected = nps(9.9, 10.2, 9.9, population=40)
    assert without.se == pytest.approx(14.83, abs=5e-3)
    assert corrected.se == pytest.approx(7.51, abs=5e-3)
    assert corrected.se / without.se == pytest.approx(0.5064, abs=5e-5)
    assert corrected.population == 40


def test_nps_census_of_whole_team_has_zero_width_interval():
    result = nps(12, 5, 3, population=20)
    assert result.se == 0.0
    assert result.ci_low == result.ci_high == pytest.approx(45.0, abs=1e-12)


def test_nps_population_below_n_warns_and_skips_correction():
    result = nps(90, 60, 50, population=150)
    assert "population_below_n" in result.warnings
    assert result.se == pytest.approx(5.7446, abs=5e-5)


def test_nps_without_answers_returns_none_with_no_data_warning():
    result = nps(0, 0, 0)
    assert result.value is None and result.se is None
    assert result.ci_low is None and result.adjusted_high is None
    assert result.warnings == ("no_data",)


def test_nps_negative_count_returns_invalid_counts_warning():
    result = nps(5, -1, 3)
    assert result.value is None and result.warnings == ("invalid_counts",)


def test_nps_all_promoters_warns_zero_variance_and_adjusted_interval_is_informative():
    result = nps(10, 0, 0)
    assert result.value == 100.0 and result.ci_low == result.ci_high == 100.0
    assert set(result.warnings) == {"low_n", "zero_variance"}
    # Adjusted: 10.75 / 0 / 0.75 pseudo-counts over 13 → NPS 76.92, var 11.5/13 - (10/13)^2.
    se = 100 * math.sqrt((11.5 / 13 - (10 / 13) ** 2) / 13)
    assert result.adjusted_low == pytest.approx(100 * 10 / 13 - 1.959963984540054 * se, rel=1e-9)
    assert result.adjusted_high == 100.0


def test_nps_rejects_confidence_outside_unit_interval():
    with pytest.raises(ValueError, match="confidence"):
        nps(1, 1, 1, confidence=95)


def test_enps_uses_nps_arithmetic_on_employee_answers():
    result = enps(90, 60, 50)
    assert result.value == pytest.approx(20.0, abs=1e-12)
    assert result.se == pytest.approx(5.7446, abs=5e-5)


def test_nps_arrays_score_each_cell_and_leave_empty_cells_nan():
    cells = nps_arrays([90, 250, 9, 0], [60, 675, 0, 0], [50, 75, 2, 0])
    np.testing.assert_allclose(cells.value[:3], [20.0, 17.5, 63.6364], atol=5e-5)
    np.testing.assert_allclose(cells.se[:3], [5.7446, 1.7157, 23.2583], atol=5e-5)
    np.testing.assert_allclose(cells.ci_high[:3], [31.2591, 20.8627, 100.0], atol=5e-3)
    assert np.isnan([cells.value[3], cells.se[3], cells.ci_low[3], cells.adjusted_low[3]]).all()
    np.testing.assert_array_equal(cells.n, [200, 1000, 11, 0])


def test_nps_arrays_accept_per_cell_population():
    cells = nps_arrays([9.9, 9.9], [10.2, 10.2], [9.9, 9.9], population=np.array([40, np.nan]))
    np.testing.assert_allclose(cells.se, [7.51, 14.83], atol=5e-3)


@given(counts, counts, counts)
def test_nps_value_and_intervals_stay_within_plus_minus_100(promoters, passives, detractors):
    result = nps(promoters, passives, detractors)
    if result.value is None:
        assert promoters + passives + detractors == 0
        return
    for bound in (result.value, result.ci_low, result.ci_high):
        assert -100.0 <= bound <= 100.0
    assert -100.0 <= result.adjusted_low <= result.adjusted_high <= 100.0


@given(counts, counts, counts, st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_nps_wald_interval_contains_estimate(promoters, passives, detractors, confidence):
    result = nps(promoters, passives, detractors, confidence=confidence)
    if result.value is not None:
        assert result.ci_low <= result.value <= result.ci_high
        assert result.adjusted_low <= result.adjusted_high


@given(st.lists(st.tuples(counts, counts, counts), min_size=1, max_size=20))
def test_nps_arrays_equal_scalar_version_per_cell(cells):
    promoters, passives, detractors = (np.array(column) for column in zip(*cells, strict=True))
    arrays = nps_arrays(promoters, passives, detractors)
    for index, cell in enumerate(cells):
        scalar = nps(*cell)
        for name in ("value", "se", "ci_low", "ci_high", "adjusted_low", "adjusted_high"):
            expected = getattr(scalar, name)
            actual = getattr(arrays, name)[index]
            # The scalar path may round differently in the last bit (one array op vs another).
            if expected is None:
                assert math.isnan(actual)
            else:
                assert actual == pytest.approx(expected, rel=1e-12, abs=1e-12)
