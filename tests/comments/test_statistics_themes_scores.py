"""Themes × scores: two-proportion z, BH q-values, sentences, suppression and trends."""

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

from comments.analysis import (
    CSAT_GROUPS,
    benjamini_hochberg,
    contrast_themes,
    theme_trends,
    two_proportion_z,
)

DELIVERY, STAFF, PRICES = 0, 1, 2


def test_two_proportion_z_matches_the_hand_formula() -> None:
    # Contingency table: delivery mentioned by 31 of 100 detractors' comments, 6 of 100
    # promoters'. Pooled p = 37/200 = 0.185; SE = sqrt(0.185 · 0.815 · (1/100 + 1/100)).
    pooled = 37 / 200
    z_hand = (0.31 - 0.06) / math.sqrt(pooled * (1 - pooled) * (2 / 100))
    p_hand = 2 * (1 - stats.norm.cdf(z_hand))
    z, p = two_proportion_z(31, 100, 6, 100)
    assert z == pytest.approx(z_hand, rel=1e-12)
    assert z == pytest.approx(4.5526, abs=1e-4)
    assert p == pytest.approx(p_hand, rel=1e-6)  # 1 - cdf loses digits this far out


def test_two_proportion_z_matches_statsmodels_proportions_ztest() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        totals = rng.integers(10, 400, size=2)
        counts = np.array([rng.integers(1, totals[0]), rng.integers(1, totals[1])])
        z_expected, p_expected = proportions_ztest(counts, totals)
        z, p = two_proportion_z(int(counts[0]), int(totals[0]), int(counts[1]), int(totals[1]))
        assert z == pytest.approx(z_expected, rel=1e-12)
        assert p == pytest.approx(p_expected, rel=1e-9)


def test_two_proportion_z_is_none_without_variation_or_an_empty_group() -> None:
    assert two_proportion_z(0, 20, 0, 30) is None
    assert two_proportion_z(20, 20, 30, 30) is None
    assert two_proportion_z(0, 0, 3, 30) is None


def test_benjamini_hochberg_matches_scipy_false_discovery_control() -> None:
    rng = np.random.default_rng(4)
    p = np.concatenate([rng.uniform(size=40), rng.uniform(0, 0.001, size=8)])
    assert benjamini_hochberg(p) == pytest.approx(stats.false_discovery_control(p), rel=1e-12)


def test_benjamini_hochberg_nan_stays_nan_and_q_is_monotone_and_at_least_p() -> None:
    p = np.array([0.01, np.nan, 0.04, 0.03, 0.2])
    q = benjamini_hochberg(p)
    assert np.isnan(q[1])
    assert q[[0, 2, 3, 4]] == pytest.approx(stats.false_discovery_control([0.01, 0.04, 0.03, 0.2]))
    present = ~np.isnan(p)
    assert (q[present] >= p[present]).all()
    order = np.argsort(p[present])
    assert (np.diff(q[present][order]) >= 0).all()


def _scored_comments() -> tuple[np.ndarray, np.ndarray]:
    """100 detractors (31 delivery, 9 staff, 60 prices), 20 passives, 100 promoters (6, 70, 24)."""
    themes = [DELIVERY] * 31 + [STAFF] * 9 + [PRICES] * 60
    themes += [DELIVERY] * 20
    themes += [DELIVERY] * 6 + [STAFF] * 70 + [PRICES] * 24
    scores = [3] * 100 + [7] * 20 + [10] * 100
    return np.array(themes), np.array(scores, dtype=float)


def test_contrast_themes_counts_shares_and_tests_each_theme() -> None:
    themes, scores = _scored_comments()
    labels = {DELIVERY: "delivery delays", STAFF: "friendly staff", PRICES: "prices"}
    contrasts = contrast_themes(themes, scores, labels)
    delivery = contrasts[0]
    assert (delivery.low_count, delivery.low_total) == (31, 100)  # passives left out
    assert (delivery.high_count, delivery.high_total) == (6, 100)
    assert (delivery.low_share, delivery.high_share) == (31.0, 6.0)
    assert delivery.difference == pytest.approx(25.0)
    for contrast, (low, high) in zip(contrasts, [(31, 6), (9, 70), (60, 24)], strict=True):
        z_expected, p_expected = proportions_ztest([low, high], [100, 100])
        assert contrast.z == pytest.approx(z_expected, rel=1e-12)
        assert contrast.p_value == pytest.approx(p_expected, rel=1e-9)
    q_expected = stats.false_discovery_control([c.p_value for c in contrasts])
    assert [c.q_value for c in contrasts] == pytest.approx(q_expected, rel=1e-12)


def test_contrast_themes_writes_a_plain_sentence() -> None:
    themes, scores = _scored_comments()
    contrast = contrast_themes(themes, scores, {DELIVERY: "delivery delays"})[0]
    assert contrast.sentence == (
        "delivery delays: 31 % of detractors' comments vs 6 % of promoters' (q < 0.001)"
    )


def test_contrast_themes_sentence_gives_q_to_three_decimals_when_not_tiny() -> None:
    themes = np.array([0] * 12 + [1] * 18 + [0] * 6 + [1] * 24)
    scores = np.array([2.0] * 30 + [9.0] * 30)
    contrast = contrast_themes(themes, scores, {0: "prices"})[0]
    _, p_expected = proportions_ztest([12, 6], [30, 30])
    assert contrast.q_value == pytest.approx(p_expected, rel=1e-9)  # one test: q = p
    assert contrast.sentence == (
        f"prices: 40 % of detractors' comments vs 20 % of promoters' (q = {p_expected:.3f})"
    )


def test_contrast_themes_returns_nothing_for_a_group_below_ten_comments() -> None:
    themes = np.array([0] * 30 + [0] * 9)
    scores = np.array([2.0] * 30 + [10.0] * 9)
    contrast = contrast_themes(themes, scores, {0: "delivery"})[0]
    assert contrast.low_count is None and contrast.high_count is None
    assert contrast.low_share is None and contrast.high_share is None
    assert contrast.low_total is None and contrast.high_total is None
    assert contrast.z is None and contrast.p_value is None and contrast.q_value is None
    assert contrast.sentence == "delivery: not enough comments from promoters (fewer than 10)"
    assert contrast.warnings == ("group_below_minimum",)


def test_contrast_themes_minimum_group_size_is_configurable() -> None:
    themes = np.array([0] * 6 + [1] * 6 + [0] * 1 + [1] * 5)
    scores = np.array([2.0] * 12 + [10.0] * 6)
    assert contrast_themes(themes, scores, {0: "a"})[0].low_share is None
    contrast = contrast_themes(themes, scores, {0: "a"}, min_group_size=5)[0]
    assert contrast.low_share == pytest.approx(50.0)
    assert contrast.high_share == pytest.approx(100 / 6)
    assert "small_expected" in contrast.warnings


def test_contrast_themes_csat_groups_and_missing_scores() -> None:
    themes = np.array([0] * 10 + [1] * 10 + [0] * 3 + [1] * 17 + [0] * 5)
    scores = np.array([1.0] * 20 + [5.0] * 20 + [np.nan] * 5)
    contrast = contrast_themes(themes, scores, {0: "queues"}, groups=CSAT_GROUPS)[0]
    assert (contrast.low_count, contrast.low_total) == (10, 20)
    assert (contrast.high_count, contrast.high_total) == (3, 20)
    assert contrast.sentence.startswith(
        "queues: 50 % of dissatisfied customers' comments vs 15 % of satisfied customers'"
    )


def test_contrast_themes_theme_nobody_mentions_has_no_test() -> None:
    themes = np.array([0] * 40)
    scores = np.array([2.0] * 20 + [10.0] * 20)
    contrasts = contrast_themes(themes, scores, {0: "a", 5: "b"})
    unmentioned = contrasts[1]
    assert unmentioned.low_share == 0.0 and unmentioned.z is None
    assert unmentioned.warnings == ("no_variation",)
    assert unmentioned.sentence == "b: 0 % of detractors' comments vs 0 % of promoters'"


def test_theme_trends_counts_and_shares_per_unit_and_period() -> None:
    units = ["north"] * 12 + ["south"] * 10 + ["north"] * 10
    periods = ["2026-01"] * 22 + ["2026-02"] * 10
    themes = [0] * 9 + [1] * 3 + [1] * 10 + [0] * 5 + [-1] * 5
    trends = theme_trends(units, periods, themes)
    assert trends.units == ("north", "south")
    assert trends.periods == ("2026-01", "2026-02")
    assert trends.theme_ids == (-1, 0, 1)
    assert trends.counts[0, 0].tolist() == [0, 9, 3]
    assert trends.counts[0, 1].tolist() == [5, 5, 0]
    assert trends.counts[1, 0].tolist() == [0, 0, 10]
    assert trends.shares[0, 0] == pytest.approx([0, 75, 25])
    assert trends.totals.tolist() == [[12, 10], [10, 0]]
    assert np.isnan(trends.shares[1, 1]).all()  # south has no February comments


def test_theme_trends_hides_cells_below_the_minimum_group_size() -> None:
    units = ["a"] * 10 + ["b"] * 9
    periods = [1] * 19
    themes = [0] * 10 + [1] * 9
    trends = theme_trends(units, periods, themes)
    assert trends.suppressed.tolist() == [[False], [True]]
    assert np.isnan(trends.counts[1, 0]).all() and np.isnan(trends.shares[1, 0]).all()
    assert np.isnan(trends.totals[1, 0])
    relaxed = theme_trends(units, periods, themes, min_group_size=5)
    assert relaxed.counts[1, 0].tolist() == [0, 9]


def test_theme_trends_rejects_inputs_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="one entry per comment"):
        theme_trends(["a"], [1, 2], [0])
