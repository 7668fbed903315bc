"""Within-unit verdicts hold their level (issue 11, item 6): the run's within-unit p is
cluster-robust by unit at every lag, and pairs answered in one survey stay out of the BH
family that decides chain links.

Oracle: statsmodels OLS of lagged, unit-demeaned y on x (no constant), cov_type="cluster" by
unit, use_t=True; scipy's false_discovery_control for the BH family. The simulation prints the
measured false-positive rate of the run's within-unit p on unrelated AR(1) metrics.
"""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from linkage.services.runs import within_unit_verdicts
from linkage.stats import linkage_stats
from linkage.stats.clustered import lagged_within_cluster
from linkage.stats.lags import lagged_pairs
from surveys.selectors import MetricPanel


def ar1(rng, shape, rho=0.7):
    noise = rng.normal(size=shape)
    series = np.empty(shape)
    series[..., 0] = noise[..., 0]
    for t in range(1, shape[-1]):
        series[..., t] = rho * series[..., t - 1] + np.sqrt(1 - rho**2) * noise[..., t]
    return series + rng.normal(0, 2, size=(*shape[:-1], 1))


@pytest.mark.parametrize("lag", [-1, 0, 2])
def test_lagged_within_cluster_matches_statsmodels(lag):
    rng = np.random.default_rng(lag + 10)
    panels = ar1(rng, (3, 25, 12))
    panels[1] += 0.4 * panels[0]
    panels[0, 3, 5] = np.nan
    cell, low, high = lagged_within_cluster(panels, [0, 0], [1, 2], lag)
    x, y, unit = lagged_pairs(panels[0], panels[1], lag)
    x_mean = np.bincount(unit, x) / np.bincount(unit)
    y_mean = np.bincount(unit, y) / np.bincount(unit)
    fit = sm.OLS(y - y_mean[unit], x - x_mean[unit]).fit(
        cov_type="cluster", cov_kwds={"groups": unit}, use_t=True
    )
    assert cell.slope[0] == pytest.approx(fit.params[0], rel=1e-9)
    assert cell.p[0] == pytest.approx(fit.pvalues[0], rel=1e-7)
    assert (low[0], high[0]) == (
        pytest.approx(fit.conf_int()[0][0], rel=1e-9),
        pytest.approx(fit.conf_int()[0][1], rel=1e-9),
    )


def _panel(values):
    metrics, units, periods = values.shape
    return MetricPanel(
        metric_keys=[f"m{index}" for index in range(metrics)],
        unit_ids=list(range(units)),
        periods=[f"2026-{month:02d}" for month in range(1, periods + 1)],
        values=values,
        n=np.ones(values.shape),
        suppressed=np.zeros(metrics, dtype=int),
    )


def test_same_survey_pairs_are_reported_outside_the_link_family():
    rng = np.random.default_rng(3)
    values = ar1(rng, (3, 20, 8))
    pairs = [(0, 1), (0, 2), (1, 2)]
    stats_ = linkage_stats(values, pairs, [0, 1], rng=rng)
    result = within_unit_verdicts(_panel(values), stats_, {(1, 2)})
    inside = [stat for stat in result if (stat.x_index, stat.y_index) != (1, 2)]
    outside = [stat for stat in result if (stat.x_index, stat.y_index) == (1, 2)]
    expected = stats.false_discovery_control([stat.within_p for stat in inside])
    assert [stat.within_q for stat in inside] == pytest.approx(list(expected), rel=1e-12)
    assert all(np.isnan(stat.within_q) and "same_survey" in stat.warnings for stat in outside)
    assert all(np.isfinite(stat.within_p) for stat in outside)


def test_run_within_p_holds_its_level_on_unrelated_autocorrelated_metrics():
    rng = np.random.default_rng(2024)
    simulations, units, periods = 600, 40, 12
    x = ar1(rng, (simulations, units, periods))
    y = ar1(rng, (simulations, units, periods))
    panels = np.stack([x, y], axis=1).reshape(simulations * 2, units, periods)
    cell, _, _ = lagged_within_cluster(
        panels, np.arange(0, 2 * simulations, 2), np.arange(1, 2 * simulations, 2), 1
    )
    rate = float(np.mean(cell.p < 0.05))
    # The repeated-measures p the run used before, on the same data (df = N − K − 1).
    n = units * (periods - 1)
    t_naive = cell.r * np.sqrt((n - units - 1) / (1 - cell.r**2))
    naive = float(np.mean(2 * stats.t.sf(np.abs(t_naive), n - units - 1) < 0.05))
    print(
        f"\nrun within-unit p, 40 units x 12 AR(1) months, lag 1: cluster FPR {rate:.3f}, "
        f"repeated-measures FPR {naive:.3f}"
    )
    band = stats.binom.ppf([0.005, 0.995], simulations, 0.05) / simulations
    assert band[0] <= rate <= band[1]
    assert naive > rate
