"""Expectation status: pending, on track, at risk, achieved, missed — by travelling in time."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from common.models import AuditEvent
from linkage.models import PerformanceExpectation
from linkage.services.expectations import (
    Reading,
    create_expectation,
    judge_status,
    refresh_expectation_status,
)
from linkage.tasks import refresh_expectation_statuses_task
from surveys import periods
from surveys.models import Metric, Question
from surveys.services.metrics import ensure_metrics_for_questions
from tests.factories import LeaderFactory, QuestionFactory, SurveyFactory, add_answers

pytestmark = pytest.mark.django_db

Status = PerformanceExpectation.Status
START, END = date(2025, 1, 1), date(2026, 1, 1)  # 365 days


def _judge(value, low, high, *, higher=True, period="2025-06", today=date(2025, 7, 10)):
    # Needed by 2025-07-01 (181 of 365 days): 50 + 0.4959 × 10 = 54.96 (higher is better).
    baseline, target = (50.0, 60.0) if higher else (50.0, 40.0)
    return judge_status(
        today=today,
        start=START,
        end=END,
        baseline=baseline,
        target=target,
        higher_is_better=higher,
        reading=Reading(period, value, 100, low, high),
    )


def test_judge_status_on_track_when_needed_trajectory_inside_interval():
    assert _judge(52.0, 49.0, 55.0) == Status.ON_TRACK


def test_judge_status_at_risk_when_interval_below_needed_trajectory():
    assert _judge(52.0, 49.0, 54.9) == Status.AT_RISK


def test_judge_status_lower_is_better_at_risk_when_interval_above_trajectory():
    # Needed: 50 − 0.4959 × 10 = 45.04; the lower bound 45.1 is still above it.
    assert _judge(48.0, 45.1, 51.0, higher=False) == Status.AT_RISK
    assert _judge(48.0, 45.0, 51.0, higher=False) == Status.ON_TRACK


def test_judge_status_pending_before_start_and_missed_after_end():
    assert _judge(70.0, 65.0, 75.0, today=date(2024, 12, 31)) == Status.PENDING
    assert _judge(59.0, 55.0, 63.0, today=date(2026, 1, 2)) == Status.MISSED
    assert _judge(60.0, 55.0, 65.0, today=date(2026, 1, 2)) == Status.ACHIEVED


@pytest.fixture
def expectation(org_tree):
    """Product X complaints: 20 % in 2025-01, target 18 % by the end of 2025."""
    question = QuestionFactory(type=Question.Type.NUMBER, metric_key="customer.delivery_complaint")
    ensure_metrics_for_questions()
    store = org_tree["stores"][0]
    add_answers(question, store, [1] * 20 + [0] * 80, period="2025-01", segment={"product": "X"})
    expectation = create_expectation(
        owner=LeaderFactory(),
        title="Reduce delivery complaints for Product X customers by 10 % over 12 months",
        metric=Metric.objects.get(key="customer.delivery_complaint"),
        unit=org_tree["company"],
        segment_filter={"product": "X"},
        baseline_period="2025-01",
        target_kind="relative",
        target_change=-10,
        start_date=date(2025, 1, 1),
        end_date=date(2025, 12, 31),
    )
    expectation.question, expectation.store = question, store
    return expectation


def _month(expectation, period, complaints, customers):
    numbers = [1] * complaints + [0] * (customers - complaints)
    add_answers(
        expectation.question, expectation.store, numbers, period=period, segment={"product": "X"}
    )
    # Other products never count for a Product X expectation.
    add_answers(expectation.question, expectation.store, [0] * 50, period=period)


def test_refresh_status_pending_before_start(expectation):
    refresh_expectation_status(expectation, today=date(2024, 12, 15))
    assert expectation.status == Status.PENDING and expectation.latest_value is None


def test_refresh_status_on_track_with_latest_complete_period(expectation):
    _month(expectation, "2025-02", 19, 100)
    _month(expectation, "2025-03", 5, 100)  # incomplete on 2025-03-10: not read yet
    refresh_expectation_status(expectation, today=date(2025, 3, 10))
    assert expectation.latest_period == "2025-02"
    assert expectation.latest_value == pytest.approx(19.0)
    assert expectation.status == Status.ON_TRACK


def test_refresh_status_at_risk_when_even_best_case_is_behind(expectation):
    _month(expectation, "2025-06", 60, 200)  # 30 %, interval well above the needed ~19 %
    refresh_expectation_status(expectation, today=date(2025, 7, 5))
    assert expectation.status == Status.AT_RISK
    assert expectation.latest_ci_low > 19.0


def test_refresh_status_achieved_when_target_reached_significantly_twice(expectation):
    _month(expectation, "2025-08", 10, 200)
    _month(expectation, "2025-09", 10, 200)
    refresh_expectation_status(expectation, today=date(2025, 10, 5))
    assert expectation.status == Status.ACHIEVED
    latest = expectation.evidence["periods"][-1]
    assert latest["significant"] and latest["level"] == "respondents"


def test_refresh_status_one_month_below_target_is_not_achieved(expectation):
    _month(expectation, "2025-08", 19, 100)
    _month(expectation, "2025-09", 10, 100)  # at the target once, not sustained
    refresh_expectation_status(expectation, today=date(2025, 10, 5))
    assert expectation.status == Status.ON_TRACK


def test_refresh_status_missed_after_end_without_reaching_target(expectation):
    _month(expectation, "2025-11", 25, 100)
    _month(expectation, "2026-01", 1, 100)  # after the time frame: never counts
    refresh_expectation_status(expectation, today=date(2026, 2, 10))
    assert expectation.latest_period == "2025-11"
    assert expectation.status == Status.MISSED


def test_refresh_status_change_is_audited_once(expectation):
    _month(expectation, "2025-08", 10, 200)
    _month(expectation, "2025-09", 10, 200)
    refresh_expectation_status(expectation, today=date(2025, 9, 15))
    before = AuditEvent.objects.filter(action="expectation.status_changed").count()
    for _ in range(2):
        refresh_expectation_status(expectation, today=date(2025, 10, 5))
    changes = AuditEvent.objects.filter(action="expectation.status_changed").order_by("pk")
    assert changes.count() == before + 1 and changes.last().details["to"] == Status.ACHIEVED


def test_task_refreshes_running_expectations_and_is_idempotent(expectation):
    today = timezone.localdate()
    last_month = periods.shift(periods.label_for(today, periods.MONTH), -1)
    PerformanceExpectation.objects.filter(pk=expectation.pk).update(
        start_date=today - timedelta(days=90), end_date=today + timedelta(days=270)
    )
    _month(expectation, periods.shift(last_month, -1), 5, 100)  # 5 %: target reached
    _month(expectation, last_month, 5, 100)  # ... and sustained
    first = refresh_expectation_statuses_task()
    second = refresh_expectation_statuses_task()
    expectation.refresh_from_db()
    assert first == second == 1
    assert expectation.status == Status.ACHIEVED and expectation.latest_period == last_month


def test_task_leaves_long_finished_expectations_alone(expectation):
    end = timezone.localdate() - timedelta(days=200)
    PerformanceExpectation.objects.filter(pk=expectation.pk).update(
        start_date=end - timedelta(days=365), end_date=end
    )
    expectation.refresh_from_db()
    refresh_expectation_status(expectation, today=end + timedelta(days=1))
    checked = PerformanceExpectation.objects.get(pk=expectation.pk).status_checked_at
    assert refresh_expectation_statuses_task() == 0
    assert PerformanceExpectation.objects.get(pk=expectation.pk).status_checked_at == checked


def test_refresh_status_gives_no_reading_for_segment_of_employee_metric(org_tree):
    # Stored before segments of anonymous metrics were refused: the daily task must go on.
    question = QuestionFactory(
        survey=SurveyFactory(employee=True),
        type=Question.Type.LIKERT,
        metric_key="employee.job_satisfaction",
    )
    ensure_metrics_for_questions()
    store = org_tree["stores"][0]
    add_answers(question, store, [5] * 6, period="2025-02", segment={"shift": "night"})
    expectation = PerformanceExpectation.objects.create(
        title="Night shift satisfaction",
        metric=Metric.objects.get(key="employee.job_satisfaction"),
        unit=store,
        segment_filter={"shift": "night"},
        baseline_period="2025-01",
        baseline_value=50.0,
        target_kind=PerformanceExpectation.TargetKind.ABSOLUTE,
        target_change=10,
        target_value=60.0,
        start_date=START,
        end_date=END,
        owner=LeaderFactory(),
    )
    refresh_expectation_status(expectation, today=date(2025, 4, 1))
    expectation.refresh_from_db()
    assert expectation.status == Status.PENDING and expectation.latest_value is None
