"""Intervals that never collapse: adjusted-Wald NPS as the primary interval; means without
variation or with too few answers get no interval and a warning instead of a zero-width one.

Oracles: STATISTICS.md §1.5 worked values (adjusted Wald 90/60/50 → [0.0854, 0.3086]) as
literals; the adjusted Wald by hand from its definition (add 0.75/1.5/0.75, n + 3, trinomial
variance, clip to ±100 after); scipy.stats.t for the t interval.
"""

import math

import numpy as np
import pytest
from scipy import stats

from surveys.scoring.means import mean_interval, mean_interval_arrays
from surveys.scoring.net_promoter import nps, nps_arrays

Z95 = 1.959963984540054


def adjusted_wald_by_hand(promoters: float, passives: float, detractors: float) -> tuple:
    p, a, d = promoters + 0.75, passives + 1.5, detractors + 0.75
    n = p + a + d
    value = (p - d) / n
    se = math.sqrt(((p + d) / n - value**2) / n)
    return max(100 * (value - Z95 * se), -100.0), min(100 * (value + Z95 * se), 100.0)


def test_nps_adjusted_wald_primary_matches_worked_example():
    result = nps(90, 60, 50, interval="adjusted_wald")
    assert result.interval == "adjusted_wald"
    assert result.ci_low == pytest.approx(8.54, abs=5e-3)
    assert result.ci_high == pytest.approx(30.86, abs=5e-3)
    assert (result.wald_low, result.wald_high) == (
        pytest.approx(8.74, abs=5e-3),
        pytest.approx(31.26, abs=5e-3),
    )
    assert result.value == pytest.approx(20.0, rel=1e-12)  # the estimate stays unadjusted


def test_nps_default_interval_stays_wald_and_keeps_both():
    result = nps(90, 60, 50)
    assert result.interval == "wald"
    assert (result.ci_low, result.ci_high) == (result.wald_low, result.wald_high)
    assert result.adjusted_low == pytest.approx(8.54, abs=5e-3)


@pytest.mark.parametrize(
    "counts", [(1, 0, 0), (0, 0, 1), (0, 1, 0), (10, 0, 0), (3, 0, 0), (0, 0, 25)]
)
def test_nps_adjusted_wald_never_collapses_and_matches_hand_formula(counts):
    result = nps(*counts, interval="adjusted_wald")
    low, high = adjusted_wald_by_hand(*counts)
    assert result.ci_low == pytest.approx(low, rel=1e-12)
    assert result.ci_high == pytest.approx(high, rel=1e-12)
    assert result.ci_high - result.ci_low > 20.0  # far from a point


def test_nps_one_promoter_has_a_wide_adjusted_interval():
    result = nps(1, 0, 0, interval="adjusted_wald")
    # 1.75 / 1.5 / 0.75 over 4: NPS 25, variance 0.5625, SE 37.5 points.
    assert result.ci_low == pytest.approx(25 - Z95 * 37.5, rel=1e-12)
    assert result.ci_high == pytest.approx(25 + Z95 * 37.5, rel=1e-12)
    assert result.wald_low == result.wald_high == 100.0  # what Wald would have shown


def test_nps_arrays_adjusted_primary_per_cell():
    cells = nps_arrays([90, 1, 0], [60, 0, 0], [50, 0, 0], interval="adjusted_wald")
    np.testing.assert_array_equal(cells.ci_low, cells.adjusted_low)
    assert cells.wald_low is not None and cells.wald_low[1] == 100.0
    assert np.isnan(cells.ci_low[2])


def test_nps_rejects_unknown_interval():
    with pytest.raises(ValueError, match="interval"):
        nps(1, 2, 3, interval="bootstrap")


def test_mean_without_variation_has_no_interval_when_asked():
    result = mean_interval(100, 700.0, 4900.0, zero_width_interval=False)  # CES 7.0 x 100
    assert result.value == 7.0 and result.sd == 0.0
    assert result.ci_low is None and result.ci_high is None
    assert "no_variation" in result.warnings and "no_interval" in result.warnings


def test_mean_below_minimum_n_has_no_interval():
    values = np.array([4.0, 5.0, 7.0, 6.0])
    result = mean_interval(4, values.sum(), values @ values, min_n=5)
    assert result.ci_low is None and result.sd == pytest.approx(values.std(ddof=1))
    assert "too_few" in result.warnings and "no_interval" in result.warnings
    shown = mean_interval(4, values.sum(), values @ values, min_n=4)
    low, high = stats.t.interval(0.95, 3, loc=values.mean(), scale=stats.sem(values))
    assert (shown.ci_low, shown.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert "too_few" not in shown.warnings


def test_mean_single_answer_is_too_few():
    result = mean_interval(1, 4.0, 16.0)
    assert result.ci_low is None and {"too_few", "no_interval"} <= set(result.warnings)


def test_mean_arrays_withhold_degenerate_intervals_per_cell():
    cells = mean_interval_arrays(
        [100, 3, 50], [700.0, 12.0, 250.0], [4900.0, 50.0, 1300.0], zero_width_interval=False
    )
    assert np.isnan(cells.ci_low[0]) and np.isfinite(cells.ci_low[1:]).all()
    assert cells.sd[0] == 0.0
