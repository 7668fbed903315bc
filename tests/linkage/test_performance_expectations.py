"""Performance expectations: specific or refused, baseline from the target group, target maths."""

from datetime import date

import pytest

from common.models import AuditEvent
from linkage.exceptions import ExpectationInvalid
from linkage.models import PerformanceExpectation
from linkage.services.expectations import create_expectation, refresh_expectation_status
from surveys.aggregation import recompute_cells
from surveys.models import Metric, Question
from surveys.services.metrics import ensure_metrics, ensure_metrics_for_questions
from tests.factories import (
    LeaderFactory,
    MetricValueFactory,
    QuestionFactory,
    SurveyFactory,
    add_answers,
    release_answers,
)

pytestmark = pytest.mark.django_db

COMPLAINT = "customer.delivery_complaint"


@pytest.fixture
def complaints(org_tree):
    """Product X: 20 of 100 customers complained in 2025-01; product Y: 50 of 100."""
    question = QuestionFactory(type=Question.Type.NUMBER, metric_key=COMPLAINT)
    ensure_metrics_for_questions()
    store = org_tree["stores"][0]
    add_answers(question, store, [1] * 20 + [0] * 80, period="2025-01", segment={"product": "X"})
    add_answers(question, store, [1] * 50 + [0] * 50, period="2025-01", segment={"product": "Y"})
    return Metric.objects.get(key=COMPLAINT)


def _expect(metric, target_unit, **changes):
    fields = {
        "owner": LeaderFactory(),
        "title": "Reduce delivery complaints for Product X customers by 10 % over 12 months",
        "metric": metric,
        "unit": target_unit,
        "segment_filter": {"product": "X"},
        "baseline_period": "2025-01",
        "target_kind": "relative",
        "target_change": -10,
        "start_date": date(2025, 1, 1),
        "end_date": date(2025, 12, 31),
        **changes,
    }
    return create_expectation(**fields)


def test_create_expectation_demo_example_relative_target_on_segment(complaints, org_tree):
    expectation = _expect(complaints, org_tree["company"])
    assert expectation.baseline_value == pytest.approx(20.0)  # 20 of 100, Product X only
    assert expectation.baseline_n == 100
    assert expectation.target_value == pytest.approx(18.0)  # 20 × (1 − 10 / 100)
    assert expectation.segment_filter == {"product": "X"}


def test_create_expectation_absolute_target_adds_change(complaints, org_tree):
    expectation = _expect(complaints, org_tree["company"], target_kind="absolute", target_change=-5)
    assert expectation.target_value == pytest.approx(15.0)


def test_create_expectation_without_segment_uses_whole_group(complaints, org_tree):
    expectation = _expect(complaints, org_tree["north"], segment_filter={})
    assert expectation.baseline_value == pytest.approx(35.0)  # 70 of 200
    assert expectation.target_value == pytest.approx(31.5)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"unit": None}, "unit", "needs a target group"),
        ({"target_change": 0}, "target_change", "needs an extent"),
        ({"target_change": None}, "target_change", "needs an extent"),
        ({"end_date": date(2024, 12, 1)}, "end_date", "needs a time frame: the end date must"),
        ({"start_date": None}, "start_date", "needs a time frame"),
        ({"baseline_period": "January"}, "baseline_period", "needs a baseline"),
    ],
)
def test_create_expectation_refuses_missing_part_and_says_why(
    complaints, org_tree, changes, field, message
):
    with pytest.raises(ExpectationInvalid) as error:
        _expect(complaints, org_tree["company"], **changes)
    text = " ".join(error.value.errors[field])
    assert text.startswith("A performance expectation needs") and message in text
    assert not PerformanceExpectation.objects.exists()


def test_create_expectation_refuses_change_against_metric_direction(complaints, org_tree):
    with pytest.raises(ExpectationInvalid) as error:
        _expect(complaints, org_tree["company"], target_change=10)
    assert "worse" in error.value.errors["target_change"][0]


def test_create_expectation_refuses_period_without_answers(complaints, org_tree):
    with pytest.raises(ExpectationInvalid) as error:
        _expect(complaints, org_tree["company"], baseline_period="2024-06")
    assert "no " in error.value.errors["baseline_period"][0]
    assert "2024-06" in error.value.errors["baseline_period"][0]


def test_create_expectation_refuses_suppressed_baseline(org_tree):
    survey = SurveyFactory(employee=True)
    question = QuestionFactory(
        survey=survey, type=Question.Type.LIKERT, metric_key="employee.job_satisfaction"
    )
    ensure_metrics_for_questions()
    add_answers(question, org_tree["stores"][0], [5, 4, 2], period="2025-01")
    metric = Metric.objects.get(key="employee.job_satisfaction")
    with pytest.raises(ExpectationInvalid) as error:
        _expect(metric, org_tree["stores"][0], segment_filter={}, target_change=10)
    assert "hidden (fewer than 5 responses)" in error.value.errors["baseline_period"][0]
    assert not PerformanceExpectation.objects.exists()


def test_create_expectation_refuses_baseline_hidden_to_protect_a_sibling(org_tree):
    survey = SurveyFactory(employee=True)
    question = QuestionFactory(
        survey=survey, type=Question.Type.LIKERT, metric_key="employee.job_satisfaction"
    )
    ensure_metrics_for_questions()
    small, large = org_tree["stores"][:2]  # both stores of the North region
    add_answers(question, small, [5, 4, 2], period="2025-01")
    add_answers(question, large, [5, 4, 4, 2, 1, 1], period="2025-01")
    release_answers()
    recompute_cells()
    metric = Metric.objects.get(key="employee.job_satisfaction")
    with pytest.raises(ExpectationInvalid) as error:
        _expect(metric, large, segment_filter={}, target_change=10)
    assert "or would reveal such a group" in error.value.errors["baseline_period"][0]
    assert not PerformanceExpectation.objects.exists()


def test_create_expectation_refuses_segment_of_employee_metric(org_tree):
    survey = SurveyFactory(employee=True)
    question = QuestionFactory(
        survey=survey, type=Question.Type.LIKERT, metric_key="employee.job_satisfaction"
    )
    ensure_metrics_for_questions()
    store = org_tree["stores"][0]
    add_answers(question, store, [5] * 6, period="2025-01", segment={"shift": "night"})
    add_answers(question, store, [2] * 6, period="2025-01", segment={"shift": "day"})
    release_answers()
    recompute_cells()
    metric = Metric.objects.get(key="employee.job_satisfaction")
    with pytest.raises(ExpectationInvalid) as error:
        _expect(metric, store, segment_filter={"shift": "night"}, target_change=10)
    assert "cannot be narrowed by a segment" in error.value.errors["segment_filter"][0]


def test_create_expectation_refuses_relative_change_of_negative_baseline(org_tree):
    question = QuestionFactory(type=Question.Type.NPS, metric_key="customer.nps")
    ensure_metrics_for_questions()
    add_answers(question, org_tree["stores"][0], [9] * 20 + [3] * 30, period="2025-01")
    metric = Metric.objects.get(key="customer.nps")  # NPS −20: +10 % would be −22
    with pytest.raises(ExpectationInvalid) as error:
        _expect(metric, org_tree["company"], segment_filter={}, target_change=10)
    assert "negative (-20.0)" in error.value.errors["target_kind"][0]
    expectation = _expect(
        metric, org_tree["company"], segment_filter={}, target_kind="absolute", target_change=10
    )
    assert expectation.target_value == pytest.approx(-10.0)


def test_create_expectation_refuses_relative_reduction_beyond_minus_100(complaints, org_tree):
    with pytest.raises(ExpectationInvalid) as error:
        _expect(complaints, org_tree["company"], target_change=-150)
    assert "cannot exceed −100 %" in error.value.errors["target_change"][0]
    assert _expect(complaints, org_tree["company"], target_change=-100).target_value == 0


def test_create_expectation_on_imported_revenue_uses_stored_unit_values(org_tree):
    ensure_metrics(["outcome.revenue"])
    revenue = Metric.objects.get(key="outcome.revenue")
    company = org_tree["company"]
    totals = {"2025-01": 200_000.0, "2025-02": 206_000.0, "2025-03": 211_000.0}
    totals["2025-04"] = 212_000.0
    for period, value in totals.items():
        MetricValueFactory(metric=revenue, unit=company, period=period, value=value, n=4)
        for number, store in enumerate(org_tree["stores"]):  # stores move alike, ± 100
            share = value / 4 + (100.0 if number % 2 else -100.0) * (period != "2025-01")
            MetricValueFactory(metric=revenue, unit=store, period=period, value=share, n=1)
    expectation = _expect(revenue, company, segment_filter={}, target_change=5)
    assert expectation.baseline_value == 200_000.0 and expectation.baseline_n == 4
    assert expectation.target_value == pytest.approx(210_000.0)
    refresh_expectation_status(expectation, today=date(2025, 4, 2))
    assert expectation.latest_period == "2025-03" and expectation.latest_value == 211_000.0
    # One month at the target is not enough: it must hold, significantly, for two.
    assert expectation.status == PerformanceExpectation.Status.ON_TRACK
    assert expectation.evidence["periods"][-1]["level"] == "stores (paired)"
    refresh_expectation_status(expectation, today=date(2025, 5, 2))
    assert expectation.status == PerformanceExpectation.Status.ACHIEVED
    with pytest.raises(ExpectationInvalid) as error:
        _expect(revenue, company, target_change=5)  # {"product": "X"}: no segments
    assert "without segments" in error.value.errors["segment_filter"][0]


def test_create_expectation_refuses_bad_segment_key(complaints, org_tree):
    with pytest.raises(ExpectationInvalid) as error:
        _expect(complaints, org_tree["company"], segment_filter={"product__contains": "X"})
    assert "segment_filter" in error.value.errors


def test_admin_expectation_form_shows_why_next_to_field(client, complaints, org_tree):
    client.force_login(LeaderFactory())
    response = client.post(
        "/admin/linkage/performanceexpectation/add/",
        {
            "title": "Fewer complaints",
            "metric": complaints.pk,
            "unit": org_tree["company"].pk,
            "segment_filter": '{"product": "X"}',
            "baseline_period": "2025-01",
            "target_kind": "relative",
            "target_change": "-10",
            "start_date": "2025-01-01",
            "end_date": "",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "A performance expectation needs a time frame" in errors["end_date"][0]
    assert not PerformanceExpectation.objects.exists()


def test_admin_expectation_form_creates_with_computed_target(client, complaints, org_tree):
    client.force_login(LeaderFactory())
    response = client.post(
        "/admin/linkage/performanceexpectation/add/",
        {
            "title": "Fewer complaints",
            "metric": complaints.pk,
            "unit": org_tree["company"].pk,
            "segment_filter": '{"product": "X"}',
            "baseline_period": "2025-01",
            "target_kind": "relative",
            "target_change": "-10",
            "start_date": "2025-01-01",
            "end_date": "2025-12-31",
        },
    )
    assert response.status_code == 302
    assert PerformanceExpectation.objects.get().target_value == pytest.approx(18.0)


def test_admin_deleting_an_expectation_is_audited_with_what_it_said(client, complaints, org_tree):
    expectation = _expect(complaints, org_tree["company"])
    leader = LeaderFactory()
    client.force_login(leader)
    response = client.post(
        f"/admin/linkage/performanceexpectation/{expectation.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302 and not PerformanceExpectation.objects.exists()
    event = AuditEvent.objects.get(action="expectation.deleted")
    assert event.actor == leader and event.details["target"] == pytest.approx(18.0)
    assert event.details["segment"] == {"product": "X"}
