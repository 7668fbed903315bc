"""Within-unit slope and r with cluster-robust (by unit) inference (linkage.stats.clustered).

Oracles: statsmodels OLS of unit-demeaned y on unit-demeaned x without a constant,
cov_type="cluster" (groups = unit), use_t=True (CR1 factor G/(G − 1), t with G − 1 df);
pingouin-free repeated-measures r by numpy (Bakdash & Marusich 2017: r of demeaned values).
The simulation checks the false-positive rate against the binomial 99 % band around 5 %.
"""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from linkage.stats.clustered import (
    unit_demeaned_sums,
    within_cluster,
    within_cluster_arrays,
)
from linkage.stats.common import _two_sided_p

SIMULATIONS = 1000
BAND = stats.binom.ppf([0.005, 0.995], SIMULATIONS, 0.05) / SIMULATIONS


def ar1_panels(rng, shape, rho):
    """AR(1) series along the last axis with unit variance, plus a unit level."""
    noise = rng.normal(size=shape)
    series = np.empty(shape)
    series[..., 0] = noise[..., 0]
    for t in range(1, shape[-1]):
        series[..., t] = rho * series[..., t - 1] + np.sqrt(1 - rho**2) * noise[..., t]
    return series + rng.normal(0, 2, size=shape[:-1] + (1,))


def demeaned_rows(x, y):
    both = np.isfinite(x) & np.isfinite(y)
    unit = np.broadcast_to(np.arange(x.shape[0])[:, None], x.shape)
    x_mean = np.nanmean(np.where(both, x, np.nan), axis=1, keepdims=True)
    y_mean = np.nanmean(np.where(both, y, np.nan), axis=1, keepdims=True)
    return (x - x_mean)[both], (y - y_mean)[both], unit[both]


def test_within_cluster_matches_statsmodels_cluster_ols_on_demeaned_data():
    rng = np.random.default_rng(3)
    x = ar1_panels(rng, (30, 10), 0.5)
    y = 0.3 * x + ar1_panels(rng, (30, 10), 0.5)
    x[rng.random(x.shape) < 0.1] = np.nan  # missing cells: units of unequal length
    x_tilde, y_tilde, unit = demeaned_rows(x, y)
    fit = sm.OLS(y_tilde, x_tilde).fit(cov_type="cluster", cov_kwds={"groups": unit}, use_t=True)
    result = within_cluster(*unit_demeaned_sums(x, y))
    low, high = fit.conf_int()[0]
    assert result.slope == pytest.approx(fit.params[0], rel=1e-9)
    assert result.se == pytest.approx(fit.bse[0], rel=1e-9)
    assert result.statistic == pytest.approx(fit.tvalues[0], rel=1e-9)
    assert result.p == pytest.approx(fit.pvalues[0], rel=1e-9)
    assert (result.slope_low, result.slope_high) == (
        pytest.approx(low, rel=1e-9),
        pytest.approx(high, rel=1e-9),
    )
    assert result.df == fit.df_resid_inference == 29
    r = x_tilde @ y_tilde / np.sqrt((x_tilde @ x_tilde) * (y_tilde @ y_tilde))
    assert result.r == pytest.approx(r, rel=1e-12)
    assert result.n == x_tilde.size and result.warnings == ()


def test_within_cluster_arrays_vectorise_over_pairs():
    rng = np.random.default_rng(4)
    x, y = ar1_panels(rng, (5, 20, 8), 0.3), ar1_panels(rng, (5, 20, 8), 0.3)
    cells = within_cluster_arrays(*unit_demeaned_sums(x, y))
    for pair in range(5):
        single = within_cluster(*unit_demeaned_sums(x[pair], y[pair]))
        assert cells.p[pair] == pytest.approx(single.p, rel=1e-12)
        assert cells.slope[pair] == pytest.approx(single.slope, rel=1e-12)


def test_within_cluster_ignores_units_seen_once():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(12, 6)), rng.normal(size=(12, 6))
    x[0, 1:] = np.nan  # unit 0 has a single complete period
    result = within_cluster(*unit_demeaned_sums(x, y))
    reference = within_cluster(*unit_demeaned_sums(x[1:], y[1:]))
    assert (result.slope, result.se, result.p) == pytest.approx(
        (reference.slope, reference.se, reference.p), rel=1e-12
    )
    assert result.units == reference.units == 11 and result.n == reference.n


def test_within_cluster_degenerate_inputs_warn():
    few = within_cluster(*unit_demeaned_sums(np.arange(12.0).reshape(3, 4), np.ones((3, 4))))
    assert {"few_units", "constant_within"} <= set(few.warnings) and np.isnan(few.p)
    alone = within_cluster(*unit_demeaned_sums([[1.0, 2.0, 3.0]], [[2.0, 1.0, 5.0]]))
    assert "too_few_units" in alone.warnings and np.isnan(alone.p)


def test_cluster_robust_within_p_holds_its_level_where_naive_p_does_not():
    rng = np.random.default_rng(12)
    shape = (SIMULATIONS, 40, 12)
    x, y = ar1_panels(rng, shape, 0.5), ar1_panels(rng, shape, 0.5)  # independent metrics
    sums = unit_demeaned_sums(x, y)
    cells = within_cluster_arrays(*sums)
    naive_p = _two_sided_p(cells.r, cells.n - cells.units - 1)  # repeated-measures r test
    robust_rate = float(np.mean(cells.p < 0.05))
    naive_rate = float(np.mean(naive_p < 0.05))
    print(f"\nwithin r, 40 units × 12 AR(1): cluster FPR {robust_rate:.3f}, naive {naive_rate:.3f}")
    assert BAND[0] <= robust_rate <= BAND[1]
    assert naive_rate > BAND[1]
