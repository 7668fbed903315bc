"""Cluster-robust change of a parent unit and difference in differences (surveys.scoring.clustered).

Oracle: statsmodels OLS of the respondent-level coded outcome on the period dummy (or on
treated, after and treated × after) with cov_type="cluster", groups = store/unit and
use_t=True: its default CR1 factor G/(G − 1)·(N − 1)/(N − K) and t with G − 1 df. Simulations
check the false-positive rate against the binomial 99 % band around 5 %.
"""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from surveys.scoring.clustered import (
    clustered_change,
    clustered_change_arrays,
    difference_in_differences,
    difference_in_differences_arrays,
    pool_clusters,
)
from surveys.scoring.comparisons import compare
from surveys.scoring.net_promoter import nps

SIMULATIONS = 1000
BAND = stats.binom.ppf([0.005, 0.995], SIMULATIONS, 0.05) / SIMULATIONS  # [0.033, 0.069]


def respondents(rng, stores, answers, outcome):
    """Respondent rows (store, period, y) with store and store-month effects."""
    effect = rng.normal(0, 0.4, stores)
    rows = []
    for period in (0, 1):
        sizes = rng.multinomial(answers, rng.dirichlet(np.ones(stores) * 2))
        for store in range(stores):
            latent = effect[store] + rng.normal(0, 0.3) + rng.normal(size=sizes[store])
            rows += [(store, period, value) for value in outcome(latent)]
    store, period, y = np.array(rows).T
    return store.astype(int), period, y


def store_sums(store, period, y, stores):
    return [
        array
        for when in (0, 1)
        for array in (
            np.bincount(store[period == when], minlength=stores).astype(float),
            np.bincount(store[period == when], weights=y[period == when], minlength=stores),
        )
    ]


def ols_cluster(y, design, groups):
    return sm.OLS(y, design).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)


def assert_matches(change, fit, index, scale=1.0):
    low, high = fit.conf_int()[index]
    assert change.difference == pytest.approx(scale * fit.params[index], rel=1e-9)
    assert change.se == pytest.approx(scale * fit.bse[index], rel=1e-9)
    assert change.statistic == pytest.approx(fit.tvalues[index], rel=1e-9)
    assert change.p_value == pytest.approx(fit.pvalues[index], rel=1e-9)
    assert (change.ci_low, change.ci_high) == (
        pytest.approx(scale * low, rel=1e-9),
        pytest.approx(scale * high, rel=1e-9),
    )
    assert change.df == fit.df_resid_inference


OUTCOMES = {
    "nps_codes": (lambda z: np.select([z > 1.0, z < -0.5], [1.0, -1.0], 0.0), 100.0),
    "top_box": (lambda z: (z > 0.5).astype(float), 100.0),
    "mean": (lambda z: np.clip(np.round(4 + 1.2 * z), 1, 7), 1.0),
}


@pytest.mark.parametrize("kind", sorted(OUTCOMES))
def test_clustered_change_matches_statsmodels_cluster_ols(kind):
    outcome, scale = OUTCOMES[kind]
    rng = np.random.default_rng(len(kind))
    store, period, y = respondents(rng, 14, 200, outcome)
    fit = ols_cluster(y, sm.add_constant(period), store)
    change = clustered_change(*store_sums(store, period, y, 14), scale=scale)
    assert_matches(change, fit, 1, scale)
    assert "few_clusters" not in change.warnings


def test_clustered_change_with_stores_missing_in_one_period():
    rng = np.random.default_rng(3)
    store, period, y = respondents(rng, 12, 150, OUTCOMES["top_box"][0])
    keep = ~((store == 0) & (period == 1)) & ~((store == 5) & (period == 0))
    store, period, y = store[keep], period[keep], y[keep]
    fit = ols_cluster(y, sm.add_constant(period), store)
    assert_matches(clustered_change(*store_sums(store, period, y, 12)), fit, 1)


def test_clustered_change_of_nps_from_store_counts():
    promoters = np.array([[5, 8], [3, 2], [9, 12], [4, 4]])
    passives = np.array([[2, 1], [4, 4], [3, 3], [2, 1]])
    detractors = np.array([[1, 0], [3, 4], [2, 1], [2, 3]])
    n = promoters + passives + detractors
    codes, store, period = [], [], []
    for index in np.ndindex(n.shape):
        block = np.repeat([1.0, 0.0, -1.0], [promoters[index], passives[index], detractors[index]])
        codes.append(block)
        store += [index[0]] * block.size
        period += [index[1]] * block.size
    fit = ols_cluster(np.concatenate(codes), sm.add_constant(np.array(period, float)), store)
    total = promoters - detractors
    change = clustered_change(n[:, 0], total[:, 0], n[:, 1], total[:, 1], scale=100.0)
    assert_matches(change, fit, 1, 100.0)
    assert "few_clusters" in change.warnings


def test_clustered_change_arrays_equal_scalar_version_per_data_set():
    rng = np.random.default_rng(4)
    n = rng.integers(0, 20, size=(5, 9, 2)).astype(float)
    total = rng.binomial(n.astype(int), 0.6).astype(float)
    cells = clustered_change_arrays(n[..., 0], total[..., 0], n[..., 1], total[..., 1])
    for index in range(5):
        change = clustered_change(
            n[index, :, 0], total[index, :, 0], n[index, :, 1], total[index, :, 1]
        )
        assert change.p_value == pytest.approx(cells.p_value[index], rel=1e-12)


def test_clustered_change_with_one_store_is_untested():
    change = clustered_change([10.0], [6.0], [12.0], [9.0])
    assert change.p_value is None and "too_few_clusters" in change.warnings


def test_clustered_change_holds_its_level_where_iid_test_does_not():
    rng = np.random.default_rng(20240611)
    stores, answers = 14, 200
    # Stores share a permanent effect and a month-specific shock (e.g. staffing) on a latent
    # scale; answers per store follow the month's traffic. Both months have one law.
    n = np.stack(
        [rng.multinomial(answers, np.ones(stores) / stores, SIMULATIONS) for _ in (0, 1)], -1
    )
    latent = 0.6 + rng.normal(0, 0.15, (SIMULATIONS, stores, 1)) + rng.normal(0, 0.2, n.shape)
    promoter, detractor = stats.norm.sf(1.0 - latent), stats.norm.cdf(-0.3 - latent)
    counts = rng.multinomial(n, np.stack([promoter, 1 - promoter - detractor, detractor], -1))
    total = counts[..., 0] - counts[..., 2]
    clustered = clustered_change_arrays(n[..., 0], total[..., 0], n[..., 1], total[..., 1])
    pooled = counts.sum(axis=1)  # simulations × months × categories
    iid = [compare(nps(*pooled[i, 0]), nps(*pooled[i, 1])).p_value for i in range(SIMULATIONS)]
    cluster_rate = float(np.mean(clustered.p_value < 0.05))
    iid_rate = float(np.mean(np.array(iid) < 0.05))
    print(f"\nNPS change, 14 stores: cluster-robust FPR {cluster_rate:.3f}, i.i.d. {iid_rate:.3f}")
    assert intraclass_correlation(n, counts) == pytest.approx(0.075, abs=0.03)
    assert BAND[0] <= cluster_rate <= BAND[1]
    assert iid_rate > BAND[1]


def intraclass_correlation(n, counts):
    """ICC(1) of the +1/0/-1 codes over store-months, one-way ANOVA (mean over data sets)."""
    size = n.reshape(SIMULATIONS, -1).astype(float)
    total = (counts[..., 0] - counts[..., 2]).reshape(SIMULATIONS, -1)
    squares = (counts[..., 0] + counts[..., 2]).reshape(SIMULATIONS, -1)
    answers, groups = size.sum(1), (size > 0).sum(1)
    between = (total**2 / np.maximum(size, 1)).sum(1) - total.sum(1) ** 2 / answers
    within = squares.sum(1) - (total**2 / np.maximum(size, 1)).sum(1)
    msb, msw = between / (groups - 1), within / (answers - groups)
    n0 = (answers - (size**2).sum(1) / answers) / (groups - 1)
    return float(np.mean((msb - msw) / (msb + (n0 - 1) * msw)))


def did_rows(rng, units, treated_share=0.5, effect=0.0):
    treated = np.arange(units) < units * treated_share
    rows = []
    level = rng.normal(0, 0.5, units)
    for unit in range(units):
        for after in (0, 1):
            size = rng.integers(3, 25)
            shift = level[unit] + rng.normal(0, 0.3) + effect * treated[unit] * after
            rows += [(unit, treated[unit], after, v) for v in 4 + shift + rng.normal(size=size)]
    unit, is_treated, after, y = np.array(rows, dtype=float).T
    return unit.astype(int), is_treated, after, y, treated


def unit_sums(unit, after, y, units):
    return [
        array
        for when in (0, 1)
        for array in (
            np.bincount(unit[after == when], minlength=units).astype(float),
            np.bincount(unit[after == when], weights=y[after == when], minlength=units),
        )
    ]


def test_difference_in_differences_matches_statsmodels_interaction():
    rng = np.random.default_rng(11)
    unit, is_treated, after, y, treated = did_rows(rng, 24, effect=0.4)
    design = np.column_stack([np.ones_like(y), is_treated, after, is_treated * after])
    fit = ols_cluster(y, design, unit)
    did = difference_in_differences(treated, *unit_sums(unit, after, y, 24))
    assert_matches(did, fit, 3)
    assert did.method.startswith("difference in differences")


def test_difference_in_differences_on_unit_values_weights_units_equally():
    rng = np.random.default_rng(12)
    treated = np.arange(16) < 6
    before, after = rng.normal(50, 5, 16), rng.normal(52, 5, 16)
    y = np.concatenate([before, after])
    is_treated = np.concatenate([treated, treated]).astype(float)
    period = np.repeat([0.0, 1.0], 16)
    design = np.column_stack([np.ones(32), is_treated, period, is_treated * period])
    fit = ols_cluster(y, design, np.tile(np.arange(16), 2))
    ones = np.ones(16)
    assert_matches(difference_in_differences(treated, ones, before, ones, after), fit, 3)


def test_difference_in_differences_needs_both_groups():
    did = difference_in_differences([True, True], [5, 5], [20, 21], [5, 5], [22, 24])
    assert did.p_value is None and "no_comparison_group" in did.warnings


def test_difference_in_differences_without_effect_holds_its_level():
    rng = np.random.default_rng(2024)
    units = 40
    treated = np.arange(units) < 20
    # Each unit has a typical monthly volume; answers per period scatter around it.
    typical = rng.integers(10, 40, size=(SIMULATIONS, units, 1))
    size = np.maximum(rng.poisson(typical, size=(SIMULATIONS, units, 2)), 1).astype(float)
    level = rng.normal(0, 0.5, (SIMULATIONS, units, 1)) + rng.normal(0, 0.3, size.shape)
    total = size * (4 + level) + np.sqrt(size) * rng.normal(size=size.shape)  # sums of N(·, 1)
    did = difference_in_differences_arrays(
        treated, size[..., 0], total[..., 0], size[..., 1], total[..., 1]
    )
    rate = float(np.mean(did.p_value < 0.05))
    print(f"\nDiD without effect, 40 units (20 treated): cluster-robust FPR {rate:.3f}")
    assert BAND[0] <= rate <= BAND[1]


def test_pooled_clusters_match_statsmodels_with_the_pooled_stores_as_one_group():
    rng = np.random.default_rng(31)
    store, period, y = respondents(rng, 12, 240, OUTCOMES["top_box"][0])
    merged = np.where(np.isin(store, [3, 7, 9]), 3, store)  # stores 3, 7, 9 hidden: one group
    fit = ols_cluster(y, sm.add_constant(period), merged)
    first_n, first_total, second_n, second_total = store_sums(store, period, y, 12)
    pool = np.where(np.isin(np.arange(12), [3, 7, 9]), 99, -1)
    pooled = pool_clusters(
        np.arange(12), [first_n, second_n], [first_total, second_total], pool, minimum=5
    )
    assert pooled.dropped == 0 and sorted(pooled.labels) == [0, 1, 2, 4, 5, 6, 8, 10, 11, 99]
    change = clustered_change(pooled.n[0], pooled.total[0], pooled.n[1], pooled.total[1])
    assert_matches(change, fit, 1)


def test_pool_smaller_than_the_threshold_in_a_period_is_left_out():
    pooled = pool_clusters(
        [1, 2, 3, 4],
        [[9, 8, 2, 1], [9, 8, 3, 3]],
        [[5, 4, 1, 0], [6, 4, 2, 1]],
        [-1, -1, 7, 7],
        minimum=5,
    )
    assert pooled.dropped == 1 and pooled.labels.tolist() == [1, 2]
    assert pooled.n.tolist() == [[9, 8], [9, 8]]
    kept = pool_clusters(
        [1, 2, 3, 4],
        [[9, 8, 2, 3], [9, 8, 3, 3]],
        [[5, 4, 1, 0], [6, 4, 2, 1]],
        [-1, -1, 7, 7],
        minimum=5,
    )
    assert kept.labels.tolist() == [1, 2, 7] and kept.total[:, 2].tolist() == [1, 3]


def test_clustered_change_with_hidden_stores_pooled_holds_its_level():
    """14 stores, the 4 smallest of each draw pooled into one cluster (as hidden stores are):
    11 clusters, wider intervals, and the false-positive rate stays in the 5 % band."""
    rng = np.random.default_rng(20261203)
    stores, answers = 14, 200
    share = rng.dirichlet(np.ones(stores) * 2, SIMULATIONS)  # unequal, stable store sizes
    n = np.stack([rng.multinomial(answers, p) for p in share])[..., None].repeat(2, -1)
    n = np.stack([n[..., 0], rng.poisson(n[..., 1])], -1).astype(float)
    latent = 0.6 + rng.normal(0, 0.15, (SIMULATIONS, stores, 1)) + rng.normal(0, 0.2, n.shape)
    promoter, detractor = stats.norm.sf(1.0 - latent), stats.norm.cdf(-0.3 - latent)
    counts = rng.multinomial(
        n.astype(int), np.stack([promoter, 1 - promoter - detractor, detractor], -1)
    )
    total = (counts[..., 0] - counts[..., 2]).astype(float)
    pooled_p, widths = [], []
    for index in range(SIMULATIONS):
        smallest = np.argsort(n[index, :, 0])[:4]
        pool = np.where(np.isin(np.arange(stores), smallest), 99, -1)
        merged = pool_clusters(np.arange(stores), n[index].T, total[index].T, pool)
        change = clustered_change(merged.n[0], merged.total[0], merged.n[1], merged.total[1])
        full = clustered_change(
            n[index, :, 0], total[index, :, 0], n[index, :, 1], total[index, :, 1]
        )
        pooled_p.append(change.p_value)
        widths.append((change.ci_high - change.ci_low) / (full.ci_high - full.ci_low))
    rate = float(np.mean(np.array(pooled_p) < 0.05))
    width = float(np.median(widths))
    print(
        f"\nNPS change, 14 stores, 4 smallest pooled: FPR {rate:.3f}, median CI width ×{width:.2f}"
    )
    assert BAND[0] <= rate <= BAND[1]
    assert width > 1.0
