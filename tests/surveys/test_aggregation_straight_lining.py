"""Straight-lining: judged per respondent across a whole grid (whatever metrics its rows
feed), against what independent answers to the grid's items would give.

Oracles: the pure per-respondent rule `straight_lining` for the counts, and
scipy.stats.binomtest (one-sided) on the expected share Σ_v Π_items min(p_item(v), 0.95)
computed by a loop for the verdicts.
"""

import numpy as np
import pytest
from scipy import stats

from surveys.aggregation import recompute_cells
from surveys.models import Answer, CellStatistics, MetricValue, Question, Response
from surveys.scoring import STRAIGHT_LINING_MIN_RESPONDENTS, straight_lining
from surveys.services import submit_response
from surveys.services.metrics import ensure_metrics_for_questions
from surveys.services.scores import apply_dirty_cell
from tests.factories import QuestionFactory, SurveyFactory, release_answers

pytestmark = pytest.mark.django_db

ALPHA = 0.01
SKEWED = [0.0, 0.02, 0.08, 0.6, 0.3]  # most people content: a quarter straight-line by chance


def grid_answers(questions, unit, rows, period="2026-01"):
    """One response per row of answers, the row's i-th number to the i-th grid item."""
    responses = Response.objects.bulk_create(
        Response(survey_id=questions[0].survey_id, unit=unit, period=period) for _ in rows
    )
    Answer.objects.bulk_create(
        Answer(response=response, question=question, number=number)
        for response, row in zip(responses, rows, strict=True)
        for question, number in zip(questions, row, strict=True)
    )


def make_grid(survey, metric_keys):
    items = [
        QuestionFactory(
            survey=survey,
            code=f"purpose_{number}",
            type=Question.Type.LIKERT,
            grid="purposeful_leadership",
            metric_key=key,
        )
        for number, key in enumerate(metric_keys, start=1)
    ]
    ensure_metrics_for_questions()
    return items


@pytest.fixture
def grid(db):
    """An employee grid of three items feeding one metric."""
    return make_grid(
        SurveyFactory(employee=True, anonymity_threshold=5), ["leadership.purpose"] * 3
    )


@pytest.fixture
def customer_grid(db):
    """A customer grid whose first two rows feed one metric and the third another."""
    keys = ["service.staff", "service.staff", "service.speed"]
    return make_grid(SurveyFactory(anonymity_threshold=0), keys)


def honest(rng, count, probabilities=SKEWED, items=3):
    return rng.choice([1, 2, 3, 4, 5], p=probabilities, size=(count, items)).tolist()


def flags_of(key):
    return {
        value.unit.code: value.details.get("flags", [])
        for value in MetricValue.objects.filter(metric__key=key)
    }


def oracle_p(rows):
    """One-sided binomial p of the rows' straight-liners against independent answers."""
    grid = np.asarray(rows, dtype=float)
    shares = [
        [min(np.mean(grid[:, item] == value), 0.95) for value in range(1, 6)]
        for item in range(grid.shape[1])
    ]
    expected = sum(np.prod([share[value] for share in shares]) for value in range(5))
    lined = int(straight_lining(grid).sum())
    return stats.binomtest(lined, len(grid), expected, alternative="greater").pvalue


def test_honest_grid_with_a_quarter_alike_is_not_flagged(org_tree, grid):
    rows = honest(np.random.default_rng(3), 300)
    share = straight_lining(np.array(rows)).mean()
    print(f"\nhonest 3-item grid: {share:.3f} of respondents straight-line")
    assert 0.2 < share < 0.3 and oracle_p(rows) > ALPHA
    grid_answers(grid, org_tree["stores"][0], rows)
    release_answers()
    recompute_cells()
    flags = flags_of("leadership.purpose")
    assert not any("straight_lining" in flags[code] for code in ("n1", "north", "acme"))


def test_grid_of_one_hundred_identical_respondents_is_flagged(org_tree, grid):
    rows = [[4, 4, 4]] * 100
    assert oracle_p(rows) < 1e-6  # 0.95³ = 0.857 per respondent at most; 0.857¹⁰⁰
    grid_answers(grid, org_tree["stores"][0], rows)
    release_answers()
    recompute_cells()
    flags = flags_of("leadership.purpose")
    assert all("straight_lining" in flags[code] for code in ("n1", "north", "acme"))


def test_one_hundred_straight_liners_among_honest_answers_are_flagged(org_tree, grid):
    rng = np.random.default_rng(4)
    value = rng.choice([3, 4, 5], size=100)
    rows = honest(rng, 200, [0.05, 0.1, 0.25, 0.4, 0.2]) + [[v, v, v] for v in value.tolist()]
    assert oracle_p(rows) < 1e-12
    grid_answers(grid, org_tree["stores"][0], rows[:150])  # honest
    grid_answers(grid, org_tree["stores"][2], rows[150:])  # 50 honest, 100 straight-liners
    release_answers()
    recompute_cells()
    flags = flags_of("leadership.purpose")
    assert oracle_p(rows[:150]) > ALPHA and "straight_lining" not in flags["n1"]
    assert "straight_lining" in flags["s1"] and "straight_lining" in flags["acme"]


def test_grid_feeding_two_metrics_counts_whole_grid_straight_liners_only(org_tree, customer_grid):
    rng = np.random.default_rng(7)
    base = honest(rng, 60, [0.1, 0.2, 0.3, 0.25, 0.15])
    whole = [[v, v, v] for v in (2, 3, 4) * 10]  # straight across the whole grid
    staff_only = [[v, v, v % 5 + 1] for v in (2, 3, 4) * 10]  # straight on staff's rows only
    n1, n2 = org_tree["stores"][:2]
    grid_answers(customer_grid, n1, base + whole)
    grid_answers(customer_grid, n2, base + staff_only)
    recompute_cells()
    label = f"{min(question.pk for question in customer_grid)}:straight_liners"
    lined_by_hand = int(straight_lining(np.array(base)).sum())
    for key in ("service.staff", "service.speed"):
        stored = {
            row.unit.code: row.grid_counts
            for row in CellStatistics.objects.filter(metric__key=key).select_related("unit")
        }
        assert stored["n1"][label] == lined_by_hand + 30
        assert stored["n2"].get(label, 0) == lined_by_hand  # [v, v, w] is not straight
        assert stored["n1"][f"{min(q.pk for q in customer_grid)}:respondents"] == 90
        flags = flags_of(key)
        assert "straight_lining" in flags["n1"]  # both metrics: the grid is judged whole
        assert "straight_lining" not in flags["n2"]
    assert oracle_p(base + whole) < ALPHA < oracle_p(base + staff_only)


def test_straight_lining_flag_kept_by_the_incremental_path(org_tree, customer_grid):
    survey = customer_grid[0].survey
    codes = [question.code for question in customer_grid]
    honest_rows = honest(np.random.default_rng(8), 40, [0.1, 0.2, 0.3, 0.25, 0.15])
    lined_rows = [[v, v, v] for v in (2, 3, 4, 5) * 10]
    for batch, flagged in ((honest_rows, False), (lined_rows, True)):
        for row in batch:
            answers = dict(zip(codes, row, strict=True))
            response = submit_response(survey=survey, answers=answers, unit=org_tree["stores"][0])
        apply_dirty_cell(survey_id=survey.pk, period=response.period)
        assert ("straight_lining" in flags_of("service.staff")["n1"]) is flagged
    assert CellStatistics.objects.exists()
    incremental = grid_statistics(), stored_details()
    assert recompute_cells() == 0  # a full recompute from raw answers agrees
    assert (grid_statistics(), stored_details()) == incremental


def grid_statistics():
    return {
        (row.metric_id, row.unit_id, row.period): row.grid_counts
        for row in CellStatistics.objects.all()
    }


def stored_details():
    rows = MetricValue.objects.values_list("metric_id", "unit_id", "details")
    return {(metric_id, unit_id, str(details)) for metric_id, unit_id, details in rows}


def test_small_grids_are_not_judged(org_tree, customer_grid):
    rows = [[4, 4, 4]] * (STRAIGHT_LINING_MIN_RESPONDENTS - 1)
    grid_answers(customer_grid, org_tree["stores"][0], rows)
    recompute_cells()
    assert "straight_lining" not in flags_of("service.staff")["n1"]


def test_suppressed_employee_cells_show_no_flag(org_tree, grid):
    rng = np.random.default_rng(9)
    n1, n2 = org_tree["stores"][:2]
    grid_answers(grid, n1, [[4, 4, 4]] * 40)
    grid_answers(grid, n2, [[4, 4, 4]] * 3)  # below the threshold of 5
    grid_answers(grid, org_tree["stores"][2], honest(rng, 40))
    grid_answers(grid, org_tree["stores"][3], honest(rng, 40))
    release_answers()
    recompute_cells()
    hidden = MetricValue.objects.filter(metric__key="leadership.purpose", suppressed=True)
    assert {value.unit.code for value in hidden} >= {"n2"}
    for value in hidden:  # nothing but the threshold, as before: no flag, no count
        assert value.details == {"threshold": 5} and value.value is None and value.n == 0
    # n1 is hidden too (complementary suppression); the region of the 43 still shows the flag
    assert "straight_lining" in flags_of("leadership.purpose")["north"]
