"""Straight-lining: cells where many respondents gave one answer to a whole grid are flagged."""

import numpy as np
import pytest

from surveys.aggregation import recompute_cells
from surveys.models import Answer, MetricValue, Question, Response
from surveys.scoring import straight_lining, straight_lining_cells
from surveys.services.metrics import ensure_metrics_for_questions
from tests.factories import QuestionFactory, SurveyFactory, release_answers

pytestmark = pytest.mark.django_db


def grid_answers(questions, unit, rows):
    """One response per row of answers, the row's i-th number to the i-th grid item."""
    responses = Response.objects.bulk_create(
        Response(survey_id=questions[0].survey_id, unit=unit, period="2026-01") for _ in rows
    )
    Answer.objects.bulk_create(
        Answer(response=response, question=question, number=number)
        for response, row in zip(responses, rows, strict=True)
        for question, number in zip(questions, row, strict=True)
    )


@pytest.fixture
def grid(db):
    survey = SurveyFactory(employee=True, anonymity_threshold=5)
    items = [
        QuestionFactory(
            survey=survey,
            code=f"purpose_{number}",
            type=Question.Type.LIKERT,
            grid="purposeful_leadership",
            metric_key="leadership.purposeful",
        )
        for number in (1, 2, 3)
    ]
    ensure_metrics_for_questions()
    return items


def varied(count, rng):
    rows = rng.integers(1, 6, size=(count, 3))
    rows[:, 2] = (rows[:, 0] % 5) + 1  # never equal to the first item: not straight
    return rows.tolist()


def test_recompute_cells_flags_cells_with_many_straight_liners(org_tree, grid):
    rng = np.random.default_rng(3)
    n1, n2 = org_tree["stores"][:2]
    grid_answers(grid, n1, [[5, 5, 5]] * 4 + varied(6, rng))  # 40 % straight
    grid_answers(grid, n2, [[3, 3, 3]] * 1 + varied(19, rng))  # 5 %
    release_answers()
    recompute_cells()
    flags = {
        value.unit.code: value.details.get("flags", [])
        for value in MetricValue.objects.filter(metric__key="leadership.purposeful")
    }
    assert "straight_lining" in flags["n1"]
    assert "straight_lining" not in flags["n2"]
    # Rolled up from the stores' respondents: 5 of 30 is under a quarter.
    assert "straight_lining" not in flags["north"] and "straight_lining" not in flags["acme"]


@pytest.mark.parametrize(("straight", "flagged"), [(10, True), (9, False)])
def test_straight_lining_flag_counts_each_respondent_exactly(org_tree, grid, straight, flagged):
    rows = np.array([[4, 4, 4]] * straight + varied(40 - straight, np.random.default_rng(2)))
    assert straight_lining(rows).sum() == straight  # the pure per-respondent rule agrees
    grid_answers(grid, org_tree["stores"][0], rows.tolist())
    release_answers()
    recompute_cells()
    cell = MetricValue.objects.get(metric__key="leadership.purposeful", unit__code="n1")
    assert ("straight_lining" in cell.details["flags"]) is flagged  # 10 of 40 is a quarter


def test_straight_lining_cells_share_rule():
    flagged = straight_lining_cells([0, 1, 5, 3, 0], [10, 10, 20, 10, 0])
    assert flagged.tolist() == [False, False, True, True, False]
