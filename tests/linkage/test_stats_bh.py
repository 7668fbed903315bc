"""Benjamini–Hochberg q-values (linkage.stats.benjamini_hochberg) and their use in a run."""

import numpy as np
import pytest
from scipy import stats

from linkage.stats import benjamini_hochberg, linkage_stats


def test_bh_hand_worked_example() -> None:
    # m = 5. Sorted p: .01 .02 .025 .04 .5 → m·p/i: .05 .05 .041667 .05 .5; the running minimum
    # from the top pulls the first two down to .025·5/3 = 1/24.
    q = benjamini_hochberg([0.04, 0.01, 0.5, 0.025, 0.02])
    assert q == pytest.approx([0.05, 1 / 24, 0.5, 1 / 24, 1 / 24], rel=1e-12)


def test_bh_matches_scipy_false_discovery_control() -> None:
    rng = np.random.default_rng(1)
    p = np.concatenate([rng.uniform(size=150), rng.uniform(0, 0.01, size=50)])
    expected = stats.false_discovery_control(p, method="bh")
    assert benjamini_hochberg(p) == pytest.approx(expected, rel=1e-12)


def test_bh_ties_match_scipy() -> None:
    p = [0.03, 0.03, 0.03, 0.2, 0.001, 0.2]
    assert benjamini_hochberg(p) == pytest.approx(stats.false_discovery_control(p), rel=1e-12)


def test_bh_nan_stays_nan_and_does_not_count_in_m() -> None:
    p = np.array([0.01, np.nan, 0.04, 0.03, np.nan])
    q = benjamini_hochberg(p)
    assert np.isnan(q[[1, 4]]).all()
    expected = stats.false_discovery_control([0.01, 0.04, 0.03])
    assert q[[0, 2, 3]] == pytest.approx(expected, rel=1e-12)


def test_bh_q_is_at_least_p_and_monotone_in_p() -> None:
    rng = np.random.default_rng(2)
    p = rng.uniform(size=300) ** 3
    q = benjamini_hochberg(p)
    assert (q >= p).all() and (q <= 1).all()
    order = np.argsort(p)
    assert (np.diff(q[order]) >= 0).all()


def test_bh_keeps_the_input_shape() -> None:
    p = np.array([[0.01, 0.2], [0.03, np.nan]])
    q = benjamini_hochberg(p)
    assert q.shape == (2, 2)
    assert q[~np.isnan(q)] == pytest.approx(stats.false_discovery_control([0.01, 0.2, 0.03]))


def test_bh_empty_and_all_nan_inputs() -> None:
    assert benjamini_hochberg([]).shape == (0,)
    assert np.isnan(benjamini_hochberg([np.nan, np.nan])).all()


def test_linkage_stats_q_is_bh_over_every_test_of_the_call() -> None:
    rng = np.random.default_rng(3)
    panels = rng.normal(size=(3, 25, 6)) + rng.normal(size=(3, 25, 1))
    panels[1, :, 1:] += 0.5 * panels[0, :, :-1]
    results = linkage_stats(panels, [(0, 1), (1, 2), (0, 2)], range(-1, 2), rng=rng)
    p = np.array([result.p for result in results])
    q = np.array([result.q for result in results])
    assert q == pytest.approx(stats.false_discovery_control(p, method="bh"), rel=1e-12)


def test_linkage_stats_within_q_is_bh_over_every_within_unit_test() -> None:
    rng = np.random.default_rng(4)
    panels = rng.normal(size=(3, 25, 6)) + rng.normal(size=(3, 25, 1))
    panels[2, :, :] += 0.4 * panels[1, :, :]
    results = linkage_stats(panels, [(0, 1), (1, 2), (0, 2)], range(-1, 2), rng=rng)
    within_p = np.array([result.within_p for result in results])
    within_q = np.array([result.within_q for result in results])
    expected = stats.false_discovery_control(within_p, method="bh")
    assert within_q == pytest.approx(expected, rel=1e-12)
    assert not np.allclose(within_q, [result.q for result in results])
