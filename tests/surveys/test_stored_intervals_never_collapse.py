"""Stored cells show intervals that never collapse (issue 11, item 5).

Oracles: the adjusted-Wald NPS interval computed by hand from STATISTICS.md rule 3 (add
0.75/1.5/0.75, n + 3); statsmodels OLS of item answers on a constant, clustered by respondent,
for a multi-item (grid) mean.
"""

import math

import numpy as np
import pytest
import statsmodels.api as sm

from linkage.comparisons import result_from_details
from linkage.presentation import format_change, format_value
from surveys.aggregation import recompute_cells
from surveys.models import Answer, Metric, MetricValue, Question, Response
from surveys.services.metrics import ensure_metrics_for_questions
from tests.factories import QuestionFactory, SurveyFactory, add_answers

pytestmark = pytest.mark.django_db


def adjusted_wald(promoters: int, passives: int, detractors: int) -> tuple[float, float]:
    p, d = promoters + 0.75, detractors + 0.75
    n = promoters + passives + detractors + 3
    value = (p - d) / n
    se = math.sqrt(((p + d) / n - value**2) / n)
    return max(-100, 100 * (value - 1.959964 * se)), min(100, 100 * (value + 1.959964 * se))


def test_one_promoter_gets_an_adjusted_interval_not_100_to_100(org_tree):
    question = QuestionFactory(survey=SurveyFactory(), code="nps", metric_key="customer.nps")
    store = org_tree["stores"][0]
    ensure_metrics_for_questions()
    add_answers(question, store, [10], released=False)
    recompute_cells(metric_keys=["customer.nps"])
    row = MetricValue.objects.get(metric__key="customer.nps", unit=store)
    low, high = adjusted_wald(1, 0, 0)
    assert row.value == 100
    assert (row.ci_low, row.ci_high) == (pytest.approx(low, abs=1e-4), pytest.approx(high))
    assert row.ci_low < 50 and row.details["wald_ci"] == [100, 100]


def test_all_promoters_on_a_large_sample_still_get_a_width(org_tree):
    question = QuestionFactory(survey=SurveyFactory(), code="nps", metric_key="customer.nps")
    store = org_tree["stores"][0]
    ensure_metrics_for_questions()
    add_answers(question, store, [9] * 40, released=False)
    recompute_cells(metric_keys=["customer.nps"])
    row = MetricValue.objects.get(metric__key="customer.nps", unit=store)
    assert row.ci_high == 100 and row.ci_low == pytest.approx(adjusted_wald(40, 0, 0)[0])
    assert row.ci_low < 95


@pytest.mark.parametrize("answers", [[5, 5, 5, 5, 5, 5], [4, 2, 5]])
def test_mean_without_variation_or_below_minimum_has_no_interval_and_says_so(org_tree, answers):
    question = QuestionFactory(
        survey=SurveyFactory(), code="ces", type=Question.Type.CES, metric_key="customer.ces"
    )
    store = org_tree["stores"][0]
    ensure_metrics_for_questions()
    add_answers(question, store, answers, released=False)
    recompute_cells(metric_keys=["customer.ces"])
    row = MetricValue.objects.get(metric__key="customer.ces", unit=store)
    assert row.value == pytest.approx(np.mean(answers))
    assert row.ci_low is None and row.ci_high is None
    assert "no_interval" in row.details["flags"]


def grid_survey(items: int):
    survey = SurveyFactory()
    questions = [
        QuestionFactory(
            survey=survey,
            code=f"lead_{number}",
            type=Question.Type.LIKERT,
            grid="leadership",
            metric_key="leadership.index",
        )
        for number in range(items)
    ]
    ensure_metrics_for_questions()
    return questions


def test_multi_item_metric_uses_respondents_as_n_with_a_respondent_clustered_interval(
    org_tree,
):
    questions = grid_survey(4)
    store = org_tree["stores"][0]
    rng = np.random.default_rng(11)
    mood = rng.normal(0, 0.9, size=(25, 1))
    grid = np.clip(np.round(3.5 + mood + rng.normal(0, 0.6, (25, 4))), 1, 5)
    grid[rng.random(grid.shape) < 0.1] = np.nan  # skipped items
    responses = Response.objects.bulk_create(
        Response(survey_id=questions[0].survey_id, unit=store, period="2026-01") for _ in range(25)
    )
    Answer.objects.bulk_create(
        Answer(response=response, question=question, number=float(number))
        for response, row in zip(responses, grid, strict=True)
        for question, number in zip(questions, row, strict=True)
        if np.isfinite(number)
    )
    recompute_cells(metric_keys=["leadership.index"])
    row = MetricValue.objects.get(metric__key="leadership.index", unit=store)
    respondent = np.repeat(np.arange(25), 4).reshape(grid.shape)
    keep = np.isfinite(grid)
    assert Metric.objects.get(key="leadership.index").aggregation == Metric.Aggregation.TOP_BOX
    answers = 100.0 * (grid[keep] >= 4)  # favourable (4-5) share of item answers, percent
    fit = sm.OLS(answers, np.ones_like(answers)).fit(
        cov_type="cluster", cov_kwds={"groups": respondent[keep]}, use_t=True
    )
    low, high = fit.conf_int()[0]
    assert row.n == 25 and row.details["answers"] == keep.sum()
    assert row.value == pytest.approx(fit.params[0], rel=1e-12)
    assert (row.ci_low, row.ci_high) == (pytest.approx(low, rel=1e-9), pytest.approx(high))
    assert "low_n" in row.details["flags"]  # 25 respondents, though about 90 answers
    # The change test reads the same clustered SE from the stored details.
    result = result_from_details(Metric.Aggregation.TOP_BOX, row.details)
    assert result.n == 25 and result.se == pytest.approx(fit.bse[0], rel=1e-9)


@pytest.mark.parametrize("value", [-0.4, -0.04, -0.004, 0.0])
def test_negative_zero_is_never_printed(value):
    nps = Metric(key="x.nps", aggregation=Metric.Aggregation.NPS)
    share = Metric(key="x.csat", aggregation=Metric.Aggregation.TOP_BOX)
    mean = Metric(key="x.ces", aggregation=Metric.Aggregation.MEAN, unit_label="/7")
    texts = [
        format_value(nps, value),
        format_value(share, value / 10),
        format_value(mean, value / 100),
        format_change(nps, value),
        format_change(share, value / 10),
        format_change(mean, value / 100),
    ]
    assert not any(text.startswith(("-0", "−0", "+0")) for text in texts), texts
