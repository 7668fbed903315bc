"""linkage_stats on a published dataset: R's `attitude` survey correlation matrix.

`attitude` (R datasets; Chatterjee & Price 1977): 30 departments of a financial
organisation, percentage of favourable answers to 7 questions. Treated as 30 units × one
period, the pooled correlations are the ordinary ones with n = 30.
"""

import itertools

import numpy as np
import pytest

from linkage.stats import linkage_stats

NAMES = ("rating", "complaints", "privileges", "learning", "raises", "critical", "advance")
ATTITUDE = np.array([
    [43, 51, 30, 39, 61, 92, 45], [63, 64, 51, 54, 63, 73, 47], [71, 70, 68, 69, 76, 86, 48],
    [61, 63, 45, 47, 54, 84, 35], [81, 78, 56, 66, 71, 83, 47], [43, 55, 49, 44, 54, 49, 34],
    [58, 67, 42, 56, 66, 68, 35], [71, 75, 50, 55, 70, 66, 41], [72, 82, 72, 67, 71, 83, 31],
    [67, 61, 45, 47, 62, 80, 41], [64, 53, 53, 58, 58, 67, 34], [67, 60, 47, 39, 59, 74, 41],
    [69, 62, 57, 42, 55, 63, 25], [68, 83, 83, 45, 59, 77, 35], [77, 77, 54, 72, 79, 77, 46],
    [81, 90, 50, 72, 60, 54, 36], [74, 85, 64, 69, 79, 79, 63], [65, 60, 65, 75, 55, 80, 60],
    [65, 70, 46, 57, 75, 85, 46], [50, 58, 68, 54, 64, 78, 52], [50, 40, 33, 34, 43, 64, 33],
    [64, 61, 52, 62, 66, 80, 41], [53, 66, 52, 50, 63, 80, 37], [40, 37, 42, 58, 50, 57, 49],
    [63, 54, 42, 48, 66, 75, 33], [66, 77, 66, 63, 88, 76, 72], [78, 75, 58, 74, 80, 78, 49],
    [48, 57, 44, 45, 51, 83, 38], [85, 85, 71, 71, 77, 74, 55], [82, 82, 39, 59, 64, 78, 39],
], dtype=float)  # fmt: skip
# cor(attitude) as printed by R, rounded to 4 decimals (upper triangle, row by row).
PUBLISHED_R = {
    ("rating", "complaints"): 0.8254, ("rating", "privileges"): 0.4261,
    ("rating", "learning"): 0.6237, ("rating", "raises"): 0.5901,
    ("rating", "critical"): 0.1564, ("rating", "advance"): 0.1551,
    ("complaints", "privileges"): 0.5583, ("complaints", "learning"): 0.5967,
    ("complaints", "raises"): 0.6692, ("complaints", "critical"): 0.1877,
    ("complaints", "advance"): 0.2246, ("privileges", "learning"): 0.4933,
    ("privileges", "raises"): 0.4455, ("privileges", "critical"): 0.1472,
    ("privileges", "advance"): 0.3433, ("learning", "raises"): 0.6403,
    ("learning", "critical"): 0.1160, ("learning", "advance"): 0.5316,
    ("raises", "critical"): 0.3769, ("raises", "advance"): 0.5742,
    ("critical", "advance"): 0.2833,
}  # fmt: skip
PAIRS = list(itertools.combinations(range(len(NAMES)), 2))


@pytest.fixture(scope="module")
def results():
    panels = ATTITUDE.T[:, :, None]  # 7 metrics × 30 units × 1 period
    stats = linkage_stats(panels, PAIRS, [0], rng=np.random.default_rng(0), permutation_below=0)
    return {(NAMES[item.x_index], NAMES[item.y_index]): item for item in stats}


def test_attitude_pooled_r_reproduces_the_published_correlation_matrix(results) -> None:
    assert set(results) == set(PUBLISHED_R)
    for pair, published in PUBLISHED_R.items():
        assert results[pair].r == pytest.approx(published, abs=5e-5), pair
        assert (results[pair].n_units, results[pair].n_pairs) == (30, 30)


def test_attitude_significance_counts_match_the_worked_example(results) -> None:
    # STATISTICS.md §2.5: of 21 Pearson pairs, 13 have p < .05, 12 have BH q < .05.
    assert sum(item.p < 0.05 for item in results.values()) == 13
    assert sum(item.q < 0.05 for item in results.values()) == 12


def test_attitude_spearman_matches_the_worked_values(results) -> None:
    # STATISTICS.md §2.2: asymptotic p of rating~privileges 0.0067; raises~critical
    # ρ 0.2868, p 0.1245; privileges~advance ρ 0.3377, p 0.0680.
    for pair, rho, p in (
        (("rating", "privileges"), 0.4843, 0.0067),
        (("raises", "critical"), 0.2868, 0.1245),
        (("privileges", "advance"), 0.3377, 0.0680),
    ):
        assert results[pair].spearman == pytest.approx(rho, abs=5e-5), pair
        assert results[pair].spearman_p == pytest.approx(p, abs=5e-5), pair
