"""Aggregation of raw answers into MetricValue rows: counts, roll-ups, values and CIs."""

from collections import defaultdict

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveys.aggregation import compute_group_value, recompute_cells
from surveys.models import Answer, DirtyScoreCell, Metric, MetricValue, Question, Response
from surveys.services.metrics import ensure_metrics_for_questions
from surveys.services.scores import recompute_all
from tests.factories import MetricValueFactory, QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db

PERIODS = ("2026-01", "2026-02")


def add_answers(question, unit, numbers, period="2026-01", segment=None):
    """One response per number, each answering `question`; bulk inserts, no services."""
    responses = Response.objects.bulk_create(
        Response(survey_id=question.survey_id, unit=unit, period=period, segment=segment or {})
        for _ in numbers
    )
    Answer.objects.bulk_create(
        Answer(response=response, question=question, number=number)
        for response, number in zip(responses, numbers, strict=True)
    )
    return responses


def answers_from_counts(counts: dict[int, int]) -> list[int]:
    return [score for score, count in counts.items() for _ in range(count)]


@pytest.fixture
def customer_survey():
    survey = SurveyFactory(slug="relationship")
    questions = {
        "nps": QuestionFactory(survey=survey, code="nps", metric_key="customer.nps"),
        "csat": QuestionFactory(
            survey=survey, code="csat", type=Question.Type.CSAT, metric_key="customer.csat"
        ),
        "ces": QuestionFactory(
            survey=survey, code="ces", type=Question.Type.CES, metric_key="customer.ces"
        ),
    }
    ensure_metrics_for_questions()
    return questions


def stored(metric_key: str) -> dict[tuple[int, str], MetricValue]:
    rows = MetricValue.objects.filter(metric__key=metric_key)
    return {(row.unit_id, row.period): row for row in rows}


def brute_force(org_tree, answers):
    """Expected per (unit, period): every answer of the unit or of any unit below it."""
    units = [org_tree["company"], org_tree["north"], org_tree["south"], *org_tree["stores"]]
    expected = defaultdict(list)
    for unit_position, period, score in answers:
        answering = units[unit_position]
        for unit in units:
            if answering.path.startswith(unit.path):
                expected[(unit.pk, period)].append(score)
    return expected


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    answers=st.lists(
        st.tuples(st.integers(1, 6), st.sampled_from(PERIODS), st.integers(0, 10)), max_size=25
    )
)
def test_recompute_cells_matches_brute_force_counts_at_every_level(
    org_tree, customer_survey, answers
):
    units = [org_tree["company"], org_tree["north"], org_tree["south"], *org_tree["stores"]]
    with transaction.atomic():
        for unit_position, period, score in answers:
            response = Response.objects.create(
                survey_id=customer_survey["nps"].survey_id, unit=units[unit_position], period=period
            )
            Answer.objects.bulk_create(
                [
                    Answer(response=response, question=customer_survey["nps"], number=score),
                    Answer(
                        response=response, question=customer_survey["csat"], number=score % 5 + 1
                    ),
                    Answer(
                        response=response, question=customer_survey["ces"], number=score % 7 + 1
                    ),
                ]
            )
        recompute_cells()
        expected = brute_force(org_tree, answers)
        nps, csat, ces = stored("customer.nps"), stored("customer.csat"), stored("customer.ces")
        assert set(nps) == set(csat) == set(ces) == set(expected)
        for cell, scores in expected.items():
            promoters = sum(score >= 9 for score in scores)
            detractors = sum(score <= 6 for score in scores)
            assert nps[cell].n == len(scores)
            assert nps[cell].details["promoters"] == promoters
            assert nps[cell].details["detractors"] == detractors
            assert nps[cell].details["passives"] == len(scores) - promoters - detractors
            assert nps[cell].value == pytest.approx(100 * (promoters - detractors) / len(scores))
            assert csat[cell].details["k"] == sum(score % 5 + 1 >= 4 for score in scores)
            ces_scores = [score % 7 + 1 for score in scores]
            assert ces[cell].value == pytest.approx(sum(ces_scores) / len(ces_scores))
        transaction.set_rollback(True)


def test_recompute_cells_nps_value_and_ci_for_hand_made_example(org_tree, customer_survey):
    store = org_tree["stores"][0]
    add_answers(customer_survey["nps"], store, answers_from_counts({10: 90, 8: 60, 3: 50}))
    recompute_cells(metric_keys=["customer.nps"])
    row = MetricValue.objects.get(metric__key="customer.nps", unit=store)
    # STATISTICS.md §1.5: P/A/D = 90/60/50 → NPS 20, adjusted-Wald 95 % CI [8.54, 30.86]
    # (the interval shown, rule 3); the Wald one [8.74, 31.26] is kept in the details.
    assert row.n == 200 and row.value == pytest.approx(20.0)
    assert (row.ci_low, row.ci_high) == (
        pytest.approx(8.54, abs=1e-2),
        pytest.approx(30.86, abs=1e-2),
    )
    assert row.details["wald_ci"] == [
        pytest.approx(8.7409, abs=1e-3),
        pytest.approx(31.2591, abs=1e-3),
    ]
    company = MetricValue.objects.get(metric__key="customer.nps", unit=org_tree["company"])
    assert company.value == pytest.approx(20.0) and company.n == 200


def test_recompute_cells_top_box_uses_wilson_interval(org_tree, customer_survey):
    store = org_tree["stores"][1]
    add_answers(customer_survey["csat"], store, answers_from_counts({5: 100, 4: 70, 2: 30}))
    recompute_cells(metric_keys=["customer.csat"])
    row = MetricValue.objects.get(metric__key="customer.csat", unit=store)
    # STATISTICS.md §1.5: 170 of 200 → 85 %, Wilson [79.3944, 89.2864]
    assert row.value == pytest.approx(85.0) and row.details["k"] == 170
    assert row.ci_low == pytest.approx(79.3944, abs=1e-3)
    assert row.ci_high == pytest.approx(89.2864, abs=1e-3)


def test_recompute_cells_mean_uses_t_interval(org_tree, customer_survey):
    store = org_tree["stores"][2]
    counts = {7: 30, 6: 40, 5: 20, 4: 5, 3: 3, 2: 1, 1: 1}
    add_answers(customer_survey["ces"], store, answers_from_counts(counts))
    recompute_cells(metric_keys=["customer.ces"])
    row = MetricValue.objects.get(metric__key="customer.ces", unit=store)
    # STATISTICS.md §1.5 CES period 1: mean 5.82, 95 % t-CI [5.5885, 6.0515]
    assert row.value == pytest.approx(5.82)
    assert row.ci_low == pytest.approx(5.5885, abs=1e-4)
    assert row.ci_high == pytest.approx(6.0515, abs=1e-4)


def test_recompute_cells_rate_counts_yes_answers(org_tree):
    goal = QuestionFactory(type=Question.Type.SINGLE, metric_key="cpi.goal_reached")
    ensure_metrics_for_questions()
    add_answers(goal, org_tree["stores"][3], [1.0] * 30 + [0.0] * 10)
    recompute_cells(metric_keys=["cpi.goal_reached"])
    row = MetricValue.objects.get(metric__key="cpi.goal_reached", unit=org_tree["stores"][3])
    assert row.value == pytest.approx(75.0) and row.n == 40 and row.details["k"] == 30
    assert row.ci_low < 75.0 < row.ci_high


def test_recompute_cells_counts_respondents_once_when_two_questions_feed_a_metric(org_tree):
    survey = SurveyFactory()
    first = QuestionFactory(survey=survey, type=Question.Type.LIKERT, metric_key="team.pride")
    second = QuestionFactory(survey=survey, type=Question.Type.LIKERT, metric_key="team.pride")
    ensure_metrics_for_questions()
    responses = add_answers(first, org_tree["stores"][0], [5, 4, 2])
    Answer.objects.bulk_create(
        Answer(response=response, question=second, number=5) for response in responses
    )
    recompute_cells(metric_keys=["team.pride"])
    row = MetricValue.objects.get(metric__key="team.pride", unit=org_tree["stores"][0])
    assert row.n == 3 and row.details["answers"] == 6 and row.details["k"] == 5


def test_recompute_cells_deletes_cells_without_answers_and_keeps_imports(org_tree, customer_survey):
    store = org_tree["stores"][0]
    responses = add_answers(customer_survey["nps"], store, [9, 10], period="2026-02")
    revenue = Metric.objects.create(
        key="outcome.revenue", name="Revenue", aggregation="sum", source="outcome"
    )
    MetricValueFactory(metric=revenue, unit=store, source=MetricValue.Source.IMPORTED)
    recompute_cells()
    assert len(stored("customer.nps")) == 3  # the store, its region and the company
    Response.objects.filter(pk__in=[response.pk for response in responses]).delete()
    recompute_cells(periods=["2026-02"])
    assert stored("customer.nps") == {}
    assert MetricValue.objects.filter(metric=revenue).count() == 1


def test_recompute_all_reports_progress_and_settles_dirty_cells(org_tree, customer_survey):
    add_answers(customer_survey["nps"], org_tree["stores"][0], [10])
    DirtyScoreCell.objects.create(survey_id=customer_survey["nps"].survey_id, period="2026-01")
    calls = []
    written = recompute_all(progress=lambda done, total: calls.append((done, total)))
    assert written == 3  # the store, its region and the company
    assert calls[-1] == (len(calls), len(calls)) and len(calls) >= 3
    assert not DirtyScoreCell.objects.exists()


def test_compute_group_value_pools_periods_and_filters_segment(org_tree, customer_survey):
    north_store, south_store = org_tree["stores"][0], org_tree["stores"][2]
    add_answers(customer_survey["nps"], north_store, [10, 10, 3], segment={"product": "X"})
    add_answers(
        customer_survey["nps"], north_store, [0], period="2026-02", segment={"product": "Y"}
    )
    add_answers(
        customer_survey["nps"], north_store, [9], period="2026-02", segment={"product": "X"}
    )
    add_answers(customer_survey["nps"], south_store, [0, 0], segment={"product": "X"})
    metric = Metric.objects.get(key="customer.nps")
    group = compute_group_value(
        metric=metric, unit=org_tree["north"], periods=PERIODS, segment={"product": "X"}
    )
    assert group.n == 4 and group.value == pytest.approx(50.0) and not group.suppressed
    assert group.details["promoters"] == 3 and group.details["detractors"] == 1
    with pytest.raises(ValueError, match="segment attribute"):
        compute_group_value(
            metric=metric, unit=org_tree["north"], periods=PERIODS, segment={"a__b": 1}
        )
