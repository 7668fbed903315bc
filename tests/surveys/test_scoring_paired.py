"""Paired change when the same respondents answer both periods (NPS codes, top-box, means).

Oracle: scipy.stats.ttest_rel (statistic, p-value, confidence_interval) on the same
per-respondent values; NPS codes checked against nps_counts.
"""

import numpy as np
import pytest
from scipy import stats

from surveys.scoring.net_promoter import nps_counts
from surveys.scoring.paired import nps_codes, paired_change, paired_change_from_sums


def panel(seed: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    person = rng.normal(size=size)  # a stable respondent effect shared by both periods
    first = np.clip(np.round(7 + 2 * person + rng.normal(size=size)), 0, 10)
    second = np.clip(np.round(7.4 + 2 * person + rng.normal(size=size)), 0, 10)
    return first, second


def assert_matches_ttest_rel(change, first, second, scale, confidence=0.95):
    oracle = stats.ttest_rel(second, first)
    low, high = oracle.confidence_interval(confidence)
    assert change.difference == pytest.approx(scale * np.mean(second - first), rel=1e-9)
    assert change.statistic == pytest.approx(oracle.statistic, rel=1e-9)
    assert change.p_value == pytest.approx(oracle.pvalue, rel=1e-9)
    assert change.ci_low == pytest.approx(scale * low, rel=1e-9)
    assert change.ci_high == pytest.approx(scale * high, rel=1e-9)
    assert change.df == len(first) - 1


def test_nps_codes_follow_nps_cut_offs():
    scores = np.array([0, 6, 7, 8, 9, 10, np.nan, 11])
    coded = nps_codes(scores)
    np.testing.assert_array_equal(coded[:6], [-1, -1, 0, 0, 1, 1])
    assert np.isnan(coded[6:]).all()
    promoters, passives, detractors = nps_counts(scores)
    assert np.nansum(coded) == promoters - detractors


def test_paired_nps_change_matches_ttest_rel_on_codes():
    first, second = (nps_codes(scores) for scores in panel(1, 120))
    change = paired_change(first, second, scale=100.0)
    assert_matches_ttest_rel(change, first, second, 100.0)
    assert change.significant is (change.p_value < 0.05)


def test_paired_top_box_change_matches_ttest_rel_on_indicators():
    first, second = ((scores >= 9).astype(float) for scores in panel(2, 80))
    assert_matches_ttest_rel(paired_change(first, second, scale=100.0), first, second, 100.0)


def test_paired_mean_change_matches_ttest_rel_at_90_percent():
    first, second = panel(3, 45)
    change = paired_change(first, second, confidence=0.9)
    assert_matches_ttest_rel(change, first, second, 1.0, confidence=0.9)


def test_paired_change_from_database_sums_equals_raw_values():
    first, second = panel(4, 60)
    differences = second - first
    from_sums = paired_change_from_sums(60, differences.sum(), differences @ differences)
    assert_matches_ttest_rel(from_sums, first, second, 1.0)


def test_paired_is_narrower_than_independent_groups_when_respondents_are_stable():
    first, second = panel(5, 100)
    paired = paired_change(first, second)
    independent = stats.ttest_ind(second, first, equal_var=False)
    assert paired.p_value < independent.pvalue


def test_paired_change_drops_incomplete_pairs_and_warns():
    first, second = panel(6, 40)
    first[:3] = np.nan
    change = paired_change(first, second)
    assert_matches_ttest_rel(change, first[3:], second[3:], 1.0)
    assert "nan_excluded" in change.warnings


def test_paired_change_small_or_constant_samples_are_untested():
    assert paired_change([5.0], [6.0]).p_value is None
    assert "no_data" in paired_change([], []).warnings
    same = paired_change([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])  # every difference is +1
    assert same.p_value is None and "zero_variance" in same.warnings and same.difference == 1.0


def test_paired_change_rejects_misaligned_inputs():
    with pytest.raises(ValueError, match="one value per respondent"):
        paired_change([1.0, 2.0], [1.0])
