"""Respondent-clustered mean of a multi-item (grid) metric.

Oracle: statsmodels OLS of the item-level answers on a constant with cov_type="cluster"
(groups = respondent) and use_t=True; the naive interval from scoring's own i.i.d. t
interval over item answers (mean_interval_from_values), which the clustered one must exceed.
"""

import numpy as np
import pytest
import statsmodels.api as sm

from surveys.scoring.comparisons import compare
from surveys.scoring.means import mean_interval_from_values
from surveys.scoring.multi_item import RespondentSums, multi_item_mean, respondent_sums


def grid(seed: int, respondents: int, items: int, halo: float = 0.8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    person = rng.normal(0, halo, size=(respondents, 1))  # a respondent's general mood
    answers = np.clip(np.round(3.6 + person + rng.normal(0, 0.8, (respondents, items))), 1, 5)
    answers[rng.random(answers.shape) < 0.1] = np.nan  # skipped items
    return answers


def statsmodels_cluster_mean(answers: np.ndarray):
    respondent = np.repeat(np.arange(answers.shape[0]), answers.shape[1]).reshape(answers.shape)
    keep = np.isfinite(answers)
    y = answers[keep]
    return sm.OLS(y, np.ones_like(y)).fit(
        cov_type="cluster", cov_kwds={"groups": respondent[keep]}, use_t=True
    )


def test_multi_item_mean_matches_statsmodels_cluster_by_respondent():
    answers = grid(1, 150, 6)
    fit = statsmodels_cluster_mean(answers)
    result = multi_item_mean(respondent_sums(answers))
    low, high = fit.conf_int()[0]
    assert result.value == pytest.approx(fit.params[0], rel=1e-12)
    assert result.se == pytest.approx(fit.bse[0], rel=1e-9)
    assert (result.ci_low, result.ci_high) == (pytest.approx(low, rel=1e-9), pytest.approx(high))
    assert result.n == 150 == fit.df_resid_inference + 1


def test_naive_item_level_interval_is_too_narrow():
    answers = grid(2, 200, 8)
    clustered = multi_item_mean(respondent_sums(answers))
    naive = mean_interval_from_values(answers)  # every item answer counted as independent
    ratio = (clustered.ci_high - clustered.ci_low) / (naive.ci_high - naive.ci_low)
    print(f"\nclustered / naive interval width, 8-item grid: {ratio:.2f}")
    assert ratio > 1.3 and naive.n > 7 * clustered.n


def test_respondent_sums_add_across_cells():
    first, second = grid(3, 40, 5), grid(4, 60, 5)
    combined = respondent_sums(first) + respondent_sums(second)
    assert combined == pytest.approx(respondent_sums(np.vstack([first, second])))
    assert isinstance(combined, RespondentSums)


def test_respondent_sums_by_hand():
    sums = respondent_sums([[1.0, 2.0, np.nan], [4.0, 4.0, 4.0], [np.nan] * 3])
    assert sums == RespondentSums(2, 5, 15, 3**2 + 12**2, 2**2 + 3**2, 3 * 2 + 12 * 3)


def test_compare_of_clustered_means_uses_their_ses():
    first, second = (multi_item_mean(respondent_sums(grid(s, 80, 5))) for s in (5, 6))
    change = compare(first, second)
    assert change.se == pytest.approx(np.hypot(first.se, second.se), rel=1e-12)


def test_multi_item_mean_degenerate_cells_have_no_interval():
    assert multi_item_mean(respondent_sums(np.empty((0, 3)))).warnings == ("no_data",)
    one = multi_item_mean(respondent_sums([[4.0, 5.0, 3.0]]))
    assert one.value == 4.0 and one.ci_low is None and "too_few" in one.warnings
    same = multi_item_mean(respondent_sums([[4.0, 4.0], [4.0, 4.0], [4.0, 4.0]]))
    assert same.ci_low is None and "no_variation" in same.warnings
