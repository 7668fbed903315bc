"""Partially overlapping samples t-test: repeat respondents paired, the rest independent.

Oracles: scipy's ttest_rel (everyone answered both periods), ttest_ind with equal_var=False
(nobody did), the published example of Derrick, Toher & White (2017, TQMP 13(2), R
``Partover.test(..., var.equal=TRUE)``: p = 0.026) and the T_new2 formula written out on the
raw values of the same example. A simulation shows the level holds with 50 % repeaters.
"""

import numpy as np
import pytest
from scipy import stats

from surveys.scoring.paired import (
    OverlapSums,
    nps_codes,
    overlap_change_from_sums,
    partially_overlapping_change,
)

# Derrick, Toher & White (2017): group "a" and group "b", 8 unpaired each and 8 pairs.
A_UNPAIRED = [20, 21, 16, 18, 14, 12, 14, 17]
A_PAIRED = [14, 15, 18, 20, 11, 19, 14, 15]
B_UNPAIRED = [10, 16, 18, 16, 15, 14, 13, 10]
B_PAIRED = [15, 10, 15, 17, 13, 19, 12, 13]


def test_partially_overlapping_test_matches_the_published_example():
    # Change from b to a, so the difference is mean(a) − mean(b) as in the paper.
    result = partially_overlapping_change(
        B_UNPAIRED, A_UNPAIRED, B_PAIRED, A_PAIRED, equal_var=True
    )
    assert result.difference == pytest.approx(2.0, rel=1e-12)
    assert round(result.p_value, 3) == 0.026 and result.significant
    assert result.df == pytest.approx(7 + 23 / 32 * 16, rel=1e-12)  # 18.5
    first = np.array(B_UNPAIRED + B_PAIRED, dtype=float)
    second = np.array(A_UNPAIRED + A_PAIRED, dtype=float)
    pooled = (15 * first.var(ddof=1) + 15 * second.var(ddof=1)) / 30
    r = np.corrcoef(B_PAIRED, A_PAIRED)[0, 1]
    se = np.sqrt(pooled * (1 / 16 + 1 / 16 - 2 * r * 8 / (16 * 16)))
    assert result.se == pytest.approx(se, rel=1e-12)


def test_partially_overlapping_welch_type_matches_the_formula_on_raw_values():
    first = np.array(B_UNPAIRED + B_PAIRED, dtype=float)
    second = np.array(A_UNPAIRED + A_PAIRED, dtype=float)
    n1, n2, nc, na, nb = 16, 16, 8, 8, 8
    r = np.corrcoef(B_PAIRED, A_PAIRED)[0, 1]
    v1, v2 = first.var(ddof=1), second.var(ddof=1)
    se = np.sqrt(v1 / n1 + v2 / n2 - 2 * r * np.sqrt(v1 * v2) * nc / (n1 * n2))
    welch = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    df = (nc - 1) + (welch - nc + 1) / (na + nb + 2 * nc) * (na + nb)
    t = (second.mean() - first.mean()) / se
    result = partially_overlapping_change(B_UNPAIRED, A_UNPAIRED, B_PAIRED, A_PAIRED)
    assert result.statistic == pytest.approx(t, rel=1e-12)
    assert result.df == pytest.approx(df, rel=1e-12)
    assert result.p_value == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-10)


def test_partially_overlapping_test_is_the_paired_t_when_everyone_repeats():
    rng = np.random.default_rng(11)
    before = rng.normal(5.0, 1.2, 40)
    after = 0.7 * before + rng.normal(1.8, 0.8, 40)
    result = partially_overlapping_change([], [], before, after)
    oracle = stats.ttest_rel(after, before)
    assert result.statistic == pytest.approx(oracle.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(oracle.pvalue, rel=1e-10)
    assert result.df == pytest.approx(39, rel=1e-12)


def test_partially_overlapping_test_is_welch_when_nobody_repeats():
    rng = np.random.default_rng(12)
    before, after = rng.normal(5.0, 1.0, 35), rng.normal(5.4, 1.6, 52)
    result = partially_overlapping_change(before, after, [], [])
    oracle = stats.ttest_ind(after, before, equal_var=False)
    assert result.statistic == pytest.approx(oracle.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(oracle.pvalue, rel=1e-10)


def test_partially_overlapping_nps_codes_give_points():
    before, after = nps_codes([10, 9, 3, 7, 8]), nps_codes([10, 10, 6, 9, 8])
    result = partially_overlapping_change(
        nps_codes([9, 2, 10]), nps_codes([10, 0]), before, after, scale=100.0
    )
    nps_first = 100 * np.mean(np.concatenate([nps_codes([9, 2, 10]), before]))
    nps_second = 100 * np.mean(np.concatenate([nps_codes([10, 0]), after]))
    assert result.difference == pytest.approx(nps_second - nps_first, rel=1e-12)


def test_partially_overlapping_test_without_two_per_period_is_untested():
    result = overlap_change_from_sums(OverlapSums(first_only=1, first_only_total=1.0))
    assert result.p_value is None and not result.significant and "no_data" in result.warnings


def _nps_from(latent: np.ndarray) -> np.ndarray:
    return nps_codes(np.clip(np.rint(8.3 + 1.7 * latent), 0, 10))


def test_partially_overlapping_test_holds_its_level_with_half_repeaters(capsys):
    """No change, 60 respondents a period, half of them answering both periods with answers
    correlated through a stable personal level: the overlap test rejects at about 5 %, the
    independent-samples test (Welch on the codes) far less often — conservative, so it
    misses real changes."""
    rng = np.random.default_rng(2026)
    runs, n, repeaters = 2000, 60, 30
    overlap_rejections = independent_rejections = 0
    for _ in range(runs):
        person = rng.normal(0.0, 0.9, repeaters)  # stable part of a repeat respondent
        first_paired = _nps_from(person + rng.normal(0.0, 0.45, repeaters))
        second_paired = _nps_from(person + rng.normal(0.0, 0.45, repeaters))
        first_only = _nps_from(rng.normal(0.0, 1.0, n - repeaters))
        second_only = _nps_from(rng.normal(0.0, 1.0, n - repeaters))
        overlap = partially_overlapping_change(
            first_only, second_only, first_paired, second_paired, scale=100.0
        )
        independent = stats.ttest_ind(
            np.concatenate([second_only, second_paired]),
            np.concatenate([first_only, first_paired]),
            equal_var=False,
        )
        overlap_rejections += overlap.significant
        independent_rejections += independent.pvalue < 0.05
    overlap_rate, independent_rate = overlap_rejections / runs, independent_rejections / runs
    with capsys.disabled():
        print(
            f"\nno change, 50 % correlated repeaters ({runs} runs): false-positive rate "
            f"{overlap_rate:.3f} partially overlapping t, {independent_rate:.3f} independent"
        )
    assert 0.035 <= overlap_rate <= 0.065
    assert independent_rate < 0.03  # conservative: the repeaters' covariance counted as noise
