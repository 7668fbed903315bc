"""Quarterly surveys end to end: answers in two quarters, scores per quarter label, the API's
quarter range filter, and a quarterly linkage run that lags by quarter across a year end."""

from datetime import UTC, datetime

import numpy as np
import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from scipy import stats

from linkage.models import LinkageResult, LinkageRun
from linkage.services.runs import compute_linkage_run, start_linkage_run
from surveys.models import Metric, MetricValue, OrgUnit, Question, Survey
from surveys.services import import_responses, submit_response
from tests.factories import (
    MetricFactory,
    MetricValueFactory,
    OrgUnitFactory,
    QuestionFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db

IN_Q1 = datetime(2026, 2, 15, 12, 0, tzinfo=UTC)
IN_Q2 = datetime(2026, 5, 10, 9, 30, tzinfo=UTC)
QUARTERS = ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]  # Q4 → Q1 crosses a year end
PAIR = ["employee.engagement", "customer.satisfaction"]


def nps(scores: list[int]) -> float:
    """Hand-computed NPS: 100 · (promoters − detractors) / n."""
    promoters = sum(score >= 9 for score in scores)
    detractors = sum(score <= 6 for score in scores)
    return 100 * (promoters - detractors) / len(scores)


@pytest.fixture
def quarterly_scores(org_tree, monkeypatch, django_capture_on_commit_callbacks):
    """A quarterly NPS survey answered in Q1 (web, one by one) and Q2 (a bulk import); the
    dirty-cell protocol recomputes the scores after each commit (eager Celery)."""
    survey = SurveyFactory(slug="quarterly", period_granularity=Survey.Granularity.QUARTER)
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS, metric_key="customer.nps")
    n1 = org_tree["stores"][0]
    monkeypatch.setattr(timezone, "now", lambda: IN_Q1)
    with django_capture_on_commit_callbacks(execute=True):
        for score in (10, 9, 3):
            submit_response(survey=survey, unit=n1, answers={"nps": score})
    monkeypatch.undo()
    rows = [{"unit": n1, "answers": {"nps": s}, "submitted_at": IN_Q2} for s in (10, 10, 10, 0)]
    with django_capture_on_commit_callbacks(execute=True):
        result = import_responses(survey=survey, rows=rows)
    assert result.periods == ("2026-Q2",)
    return {"Q1": [10, 9, 3], "Q2": [10, 10, 10, 0]}


def test_quarterly_survey_stores_scores_per_quarter_label(quarterly_scores):
    stored = dict(
        MetricValue.objects.filter(metric__key="customer.nps", unit__code="n1").values_list(
            "period", "value"
        )
    )

    assert stored == {
        "2026-Q1": pytest.approx(nps(quarterly_scores["Q1"]), rel=1e-12),
        "2026-Q2": pytest.approx(nps(quarterly_scores["Q2"]), rel=1e-12),
    }
    # Rolled up the tree under the same labels; no month label anywhere.
    assert set(MetricValue.objects.filter(unit__code="acme").values_list("period", flat=True)) == {
        "2026-Q1",
        "2026-Q2",
    }
    assert not MetricValue.objects.exclude(period__contains="Q").exists()


@pytest.mark.parametrize(
    ("period_from", "period_to", "expected"),
    [
        ("2026-Q1", "2026-Q2", ["2026-Q1", "2026-Q2"]),
        ("2026-Q2", "2026-Q4", ["2026-Q2"]),
        ("2025-Q1", "2026-Q1", ["2026-Q1"]),
        ("2026-01", "2026-12", []),  # a month range never returns quarter labels
    ],
)
def test_quarterly_scores_api_range_filter_with_quarter_bounds(
    quarterly_scores, leader, period_from, period_to, expected
):
    client = APIClient()
    client.force_authenticate(leader)
    query = {"metric": "customer.nps", "unit": "n1", "subtree": "0"}

    response = client.get(
        "/api/v1/metric-values/", {**query, "period_from": period_from, "period_to": period_to}
    )

    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [row["period"] for row in rows] == expected
    by_period = {row["period"]: row["value"] for row in rows}
    for label, quarter in (("2026-Q1", "Q1"), ("2026-Q2", "Q2")):
        if label in by_period:
            assert by_period[label] == pytest.approx(nps(quarterly_scores[quarter]), rel=1e-12)


@pytest.fixture
def quarterly_panel():
    """12 stores × 4 quarters of a metric pair (seeded), one quarter of one store missing."""
    rng = np.random.default_rng(20260101)
    x_metric = MetricFactory(key=PAIR[0], chain_stage=Metric.ChainStage.EMPLOYEE_LOYALTY)
    y_metric = MetricFactory(key=PAIR[1], chain_stage=Metric.ChainStage.CUSTOMER_SATISFACTION)
    region = OrgUnitFactory(code="region", level=OrgUnit.Level.REGION)
    cells: dict[tuple[str, str], tuple[float, float | None]] = {}
    for index in range(12):
        store = OrgUnitFactory(code=f"store-{index:02d}", parent=region)
        for quarter in QUARTERS:
            x = 50 + 3 * index + rng.normal(0, 5)
            y = None if (index, quarter) == (4, "2026-Q1") else 0.6 * x + rng.normal(0, 4)
            MetricValueFactory(metric=x_metric, unit=store, period=quarter, value=x)
            if y is not None:
                MetricValueFactory(metric=y_metric, unit=store, period=quarter, value=y)
            cells[store.code, quarter] = (x, y)
    return cells


def _lagged_pairs(cells, lag: int) -> tuple[list[float], list[float]]:
    """X at quarter t against Y at quarter t + lag of the same store, both present."""
    xs, ys = [], []
    for (code, quarter), (x, _) in cells.items():
        later = QUARTERS.index(quarter) + lag
        if 0 <= later < len(QUARTERS) and cells[code, QUARTERS[later]][1] is not None:
            xs.append(x)
            ys.append(cells[code, QUARTERS[later]][1])
    return xs, ys


def test_quarterly_linkage_run_finishes_with_results_lagged_by_quarter(quarterly_panel):
    run = start_linkage_run(
        created_by=None,
        level=OrgUnit.Level.STORE,
        first_period=QUARTERS[0],
        last_period=QUARTERS[-1],
        metric_keys=PAIR,
        max_lag=1,
        enqueue=False,
    )

    compute_linkage_run(run.id)

    run.refresh_from_db()
    assert (run.status, run.error, run.n_units) == (LinkageRun.Status.DONE, "", 12)
    results = {result.lag: result for result in LinkageResult.objects.filter(run=run)}
    assert set(results) == {-1, 0, 1}
    for lag in (0, 1):
        xs, ys = _lagged_pairs(quarterly_panel, lag)
        assert results[lag].n_pairs == len(xs) == {0: 47, 1: 35}[lag]
        assert results[lag].n_units == 12
        assert results[lag].r == pytest.approx(stats.pearsonr(xs, ys).statistic, rel=1e-9)
