"""On PostgreSQL, every stored cell equals a brute-force count over the raw answers."""

from collections import defaultdict

import numpy as np
import pytest
from django.db import connection

from surveys.models import Answer, MetricValue, OrgUnit, Question, Response
from surveys.services.metrics import ensure_metrics_for_questions
from surveys.services.scores import recompute_all
from tests.conftest import skip_or_fail
from tests.factories import OrgUnitFactory, QuestionFactory, SurveyFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

PERIODS = ["2026-01", "2026-02", "2026-03"]


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        skip_or_fail("this comparison runs on PostgreSQL (set DATABASE_URL)")


def four_level_tree() -> list[OrgUnit]:
    """Company → 2 regions → 2 stores each → 2 teams each (15 units)."""
    company = OrgUnitFactory(level=OrgUnit.Level.COMPANY)
    units = [company]
    for _ in range(2):
        region = OrgUnitFactory(level=OrgUnit.Level.REGION, parent=company)
        units.append(region)
        for _ in range(2):
            store = OrgUnitFactory(parent=region)
            units.append(store)
            units.extend(OrgUnitFactory(level=OrgUnit.Level.TEAM, parent=store) for _ in range(2))
    return units


def seed(units, rng, count=600):
    """Random NPS and CES answers anywhere in the tree (one response answers both)."""
    survey = SurveyFactory()
    nps = QuestionFactory(survey=survey, metric_key="customer.nps")
    ces = QuestionFactory(survey=survey, type=Question.Type.CES, metric_key="customer.ces")
    ensure_metrics_for_questions()
    picks = rng.integers(0, len(units), count)
    periods = rng.integers(0, len(PERIODS), count)
    scores = rng.integers(0, 11, count)
    responses = Response.objects.bulk_create(
        Response(survey=survey, unit=units[unit], period=PERIODS[period])
        for unit, period in zip(picks, periods, strict=True)
    )
    Answer.objects.bulk_create(
        answer
        for response, score in zip(responses, scores.tolist(), strict=True)
        for answer in (
            Answer(response=response, question=nps, number=score),
            Answer(response=response, question=ces, number=score % 7 + 1),
        )
    )
    return [
        (units[unit], PERIODS[period], score)
        for unit, period, score in zip(picks, periods, scores, strict=True)
    ]


def test_postgres_aggregation_matches_brute_force_at_every_level():
    units = four_level_tree()
    answers = seed(units, np.random.default_rng(20260101))
    recompute_all()
    expected = defaultdict(list)
    for answering, period, score in answers:
        for unit in units:
            if answering.path.startswith(unit.path):
                expected[(unit.pk, period)].append(int(score))
    nps = {
        (row.unit_id, row.period): row
        for row in MetricValue.objects.filter(metric__key="customer.nps")
    }
    ces = {
        (row.unit_id, row.period): row
        for row in MetricValue.objects.filter(metric__key="customer.ces")
    }
    assert set(nps) == set(ces) == set(expected)
    for cell, scores in expected.items():
        promoters = sum(score >= 9 for score in scores)
        detractors = sum(score <= 6 for score in scores)
        assert (nps[cell].n, nps[cell].details["promoters"], nps[cell].details["detractors"]) == (
            len(scores),
            promoters,
            detractors,
        )
        assert nps[cell].value == pytest.approx(100 * (promoters - detractors) / len(scores))
        efforts = np.array([score % 7 + 1 for score in scores], dtype=float)
        assert ces[cell].value == pytest.approx(efforts.mean(), rel=1e-12)
        assert ces[cell].details["sum_sq"] == pytest.approx(float((efforts**2).sum()))
