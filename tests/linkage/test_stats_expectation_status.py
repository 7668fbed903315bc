"""Expectation status as a pure rule (linkage.stats.expectations).

Unit cases by hand; simulations of 12-month series whose monthly changes against the
baseline come from Welch's t (scipy.stats.ttest_ind_from_stats, vectorised) packed as
`Comparison`s: a stationary metric is "achieved" at most at the nominal rate, a real −10 %
change (lower is better) in most runs.
"""

import numpy as np
import pytest
from scipy import stats

from linkage.stats.expectations import (
    ExpectationPlan,
    expectation_status,
    meets_target,
    planned_change,
)
from surveys.scoring.comparisons import Comparison

SIMULATIONS, MONTHS, ANSWERS = 1000, 12, 400
BASE, SD = 2.5, 1.0  # a lower-is-better 1-5 effort score
TARGET = -0.1 * BASE  # the expectation: 10 % less effort within the year
PLAN = ExpectationPlan(target_change=TARGET, higher_is_better=False, start=1, end=MONTHS)


def change(difference, low, high, significant=None):
    significant = (low > 0 or high < 0) if significant is None else significant
    return Comparison(difference, None, None, None, low, high, significant, "test")


def welch_changes(rng, shift, answers=ANSWERS):
    """Monthly Comparisons of each month against one baseline month: sims × months."""
    means = BASE + shift + rng.normal(0, SD / np.sqrt(answers), (SIMULATIONS, MONTHS))
    variances = SD**2 * rng.chisquare(answers - 1, (SIMULATIONS, MONTHS)) / (answers - 1)
    base_mean = BASE + rng.normal(0, SD / np.sqrt(answers), (SIMULATIONS, 1))
    base_var = SD**2 * rng.chisquare(answers - 1, (SIMULATIONS, 1)) / (answers - 1)
    test = stats.ttest_ind_from_stats(
        means, np.sqrt(variances), answers, base_mean, np.sqrt(base_var), answers, equal_var=False
    )
    parts = variances / answers, base_var / answers
    se = np.sqrt(parts[0] + parts[1])
    df = (parts[0] + parts[1]) ** 2 / ((parts[0] ** 2 + parts[1] ** 2) / (answers - 1))
    half = stats.t.ppf(0.975, df) * se
    difference = means - base_mean
    return [
        [
            Comparison(d, s, None, p, d - h, d + h, bool(p < 0.05), "Welch t-test")
            for d, s, p, h in zip(row_d, row_s, row_p, row_h, strict=True)
        ]
        for row_d, row_s, row_p, row_h in zip(difference, se, test.pvalue, half, strict=True)
    ]


def final_statuses(series, plan=PLAN):
    months = list(range(1, MONTHS + 1))
    return np.array(
        [expectation_status(plan, row, months, current=MONTHS).status for row in series]
    )


def ever_achieved(series, plan):
    return np.mean(
        [
            any(
                expectation_status(plan, row[:m], list(range(1, m + 1)), current=m).status
                == "achieved"
                for m in range(2, MONTHS + 1)
            )
            for row in series
        ]
    )


@pytest.mark.parametrize(("answers", "reduction"), [(400, 0.10), (50, 0.05)])
def test_stationary_metric_is_achieved_at_most_at_the_nominal_rate(answers, reduction):
    plan = ExpectationPlan(-reduction * BASE, higher_is_better=False, start=1, end=MONTHS)
    series = welch_changes(np.random.default_rng(answers), 0.0, answers)
    achieved = float(np.mean(final_statuses(series, plan) == "achieved"))
    ever = ever_achieved(series, plan)
    beyond = np.array([[c.difference <= plan.target_change for c in row[1:]] for row in series])
    print(
        f"\nstationary, n {answers}/month, target -{reduction:.0%}: achieved at the end "
        f"{achieved:.3f}, ever in the year {ever:.3f}; old rule (one point beyond target): "
        f"{beyond[:, -1].mean():.3f} at the end, {beyond.sum(1).mean():.2f} of 11 months, "
        f"ever {beyond.any(1).mean():.3f}"
    )
    assert achieved <= 0.05 and ever <= 0.05


def test_real_ten_percent_reduction_is_achieved_in_most_runs():
    series = welch_changes(np.random.default_rng(32), TARGET)
    rate = float(np.mean(final_statuses(series) == "achieved"))
    print(f"\nreal -10 % change: achieved in {rate:.3f} of runs")
    assert rate >= 0.8


def test_planned_trajectory_is_linear_over_the_frame():
    plan = ExpectationPlan(target_change=6.0, higher_is_better=True, start=3, end=8)
    assert [planned_change(plan, p) for p in (2, 3, 5, 8, 9)] == [0.0, 1.0, 3.0, 6.0, 6.0]


def test_meets_target_needs_significance_direction_and_reach():
    plan = ExpectationPlan(target_change=5.0, higher_is_better=True, start=1, end=6)
    assert meets_target(change(4.0, 1.0, 7.0), plan)  # target inside the interval
    assert not meets_target(change(2.0, 0.5, 3.5), plan)  # significant but short of target
    assert not meets_target(change(6.0, -1.0, 13.0), plan)  # beyond target, not significant
    assert not meets_target(change(-6.0, -9.0, -3.0), plan)  # significant, wrong direction


def test_status_sequence_by_hand():
    plan = ExpectationPlan(target_change=-4.0, higher_is_better=False, start=1, end=4)
    hit, flat, behind = change(-4.5, -7.0, -2.0), change(0.0, -2.0, 2.0), change(1.0, 0.5, 1.5)
    assert expectation_status(plan, [], [], current=0).status == "pending"
    assert expectation_status(plan, [], [], current=2).reason == "no data"
    assert expectation_status(plan, [hit], [1], current=1).status == "on_track"  # one is not two
    assert expectation_status(plan, [flat, hit, hit], [1, 2, 3], current=3).status == "achieved"
    lapsed = expectation_status(plan, [hit, hit, flat], [1, 2, 3], current=3)
    assert lapsed.status == "at_risk" and lapsed.planned_change == -3.0  # best case −2 > −3
    assert expectation_status(plan, [flat], [1], current=1).status == "on_track"  # −2 ≤ −1
    assert expectation_status(plan, [flat, behind], [1, 2], current=2).status == "at_risk"
    missed = expectation_status(plan, [flat, hit, flat, hit], [1, 2, 3, 4], current=5)
    assert missed.status == "missed" and missed.periods_meeting_target == 1
    outside = expectation_status(plan, [hit, hit], [5, 6], current=6)
    assert outside.status == "pending"


def test_one_period_frame_needs_one_period():
    plan = ExpectationPlan(target_change=2.0, higher_is_better=True, start=5, end=5)
    assert expectation_status(plan, [change(2.5, 1.0, 4.0)], [5], current=5).status == "achieved"


def test_plan_rejects_a_target_against_the_metric_direction():
    with pytest.raises(ValueError, match="direction"):
        ExpectationPlan(target_change=-3.0, higher_is_better=True, start=1, end=3)
    with pytest.raises(ValueError, match="start"):
        ExpectationPlan(target_change=3.0, higher_is_better=True, start=4, end=3)
