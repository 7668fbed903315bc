"""Incremental scores: batches of new responses added to the per-cell statistics give
exactly the stored values a full recompute from raw answers gives (property, hypothesis),
over any org tree, any thresholds, any mix of NPS, top-box, mean, sum, rate and a grid whose
rows feed two metrics (its straight-lining statistics included)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveys.aggregation import recompute_cells
from surveys.models import CellStatistics, DirtyScoreCell, Metric, MetricValue, OrgUnit, Question
from surveys.services import submit_response
from surveys.services.metrics import ensure_metrics_for_questions
from surveys.services.scores import apply_dirty_cell, mark_scores_dirty
from tests.factories import ChoiceFactory, OrgUnitFactory, QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db

MOMENTS = [
    datetime(2026, 1, 15, 12, tzinfo=ZoneInfo("UTC")),
    datetime(2026, 2, 15, 12, tzinfo=ZoneInfo("UTC")),
]

parents = st.integers(min_value=2, max_value=8).flatmap(
    lambda size: st.tuples(
        *(st.integers(min_value=0, max_value=index - 1) for index in range(1, size))
    )
)
answer = st.fixed_dictionaries(
    {
        "nps": st.integers(0, 10),
        "csat": st.one_of(st.none(), st.integers(1, 5)),
        "ces": st.one_of(st.none(), st.integers(1, 7)),
        "minutes": st.one_of(st.none(), st.integers(0, 120)),
        "goal": st.one_of(st.none(), st.sampled_from(["yes", "no"])),
        "grid_a": st.integers(1, 5),
        "grid_b": st.integers(1, 5),
        "grid_c": st.one_of(st.none(), st.integers(1, 5)),
    }
)
response = st.tuples(st.integers(0, 20), st.integers(0, 1), answer)  # unit, period, answers
batches = st.lists(
    st.one_of(st.lists(response, min_size=1, max_size=8), st.just("import")),
    min_size=1,
    max_size=6,
)


class Rollback(Exception):
    pass


def build_tree(parent_of: tuple[int, ...]) -> list[OrgUnit]:
    units = [OrgUnitFactory(level=OrgUnit.Level.COMPANY)]
    for parent in parent_of:
        units.append(OrgUnitFactory(parent=units[parent], level=OrgUnit.Level.STORE))
    return units


def build_survey(threshold: int):
    survey = SurveyFactory(anonymity_threshold=threshold)
    add = QuestionFactory
    add(survey=survey, code="nps", type=Question.Type.NPS, metric_key="customer.nps")
    add(survey=survey, code="csat", type=Question.Type.CSAT, metric_key="customer.csat")
    add(survey=survey, code="ces", type=Question.Type.CES, metric_key="customer.ces")
    add(survey=survey, code="minutes", type=Question.Type.NUMBER, metric_key="ops.minutes")
    goal = add(survey=survey, code="goal", type=Question.Type.SINGLE, metric_key="cpi.goal_reached")
    ChoiceFactory(question=goal, value="yes", label="Yes", score=1)
    ChoiceFactory(question=goal, value="no", label="No", score=0)
    # One grid whose rows feed two metrics: straight-lining is judged on the whole grid.
    for code, key in (("grid_a", "team.grid"), ("grid_b", "team.grid"), ("grid_c", "team.voice")):
        add(survey=survey, code=code, type=Question.Type.LIKERT, metric_key=key, grid="g")
    for code in ("csat", "ces", "minutes", "goal", "grid_c"):
        Question.objects.filter(survey=survey, code=code).update(required=False)
    ensure_metrics_for_questions()
    Metric.objects.filter(key="ops.minutes").update(aggregation=Metric.Aggregation.SUM)
    return survey


def stored() -> dict:
    rows = MetricValue.objects.values_list(
        "metric__key",
        "unit_id",
        "period",
        "value",
        "n",
        "ci_low",
        "ci_high",
        "suppressed",
        "details",
    )
    return {row[:3]: row[3:] for row in rows}


def statistics() -> dict:
    """The per-cell statistics, the whole grid's straight-lining counts among them."""
    rows = CellStatistics.objects.values_list(
        "metric__key", "unit_id", "period", "sums", "respondents", "grid_counts"
    )
    return {row[:3]: row[3:] for row in rows}


def run_history(parent_of, threshold, history) -> None:
    units = build_tree(parent_of)
    survey = build_survey(threshold)
    for batch in history:
        periods = set()
        if batch == "import":  # a bulk import marks whole cells, listing no responses
            mark_scores_dirty(survey_id=survey.pk, period="2026-01")
            periods.add("2026-01")
        else:
            for unit_at, moment_at, answers in batch:
                unit = units[1 + unit_at % (len(units) - 1)]
                meta = {"submitted_at": MOMENTS[moment_at]}
                submitted = {code: value for code, value in answers.items() if value is not None}
                row = submit_response(survey=survey, answers=submitted, unit=unit, meta=meta)
                periods.add(row.period)
        for period in sorted(periods):  # the worker's pass over the batch
            apply_dirty_cell(survey_id=survey.pk, period=period)
    assert not DirtyScoreCell.objects.exists()
    incremental, kept = stored(), statistics()
    assert recompute_cells() == 0  # a full recompute from raw answers changes nothing
    assert stored() == incremental
    assert statistics() == kept  # and rebuilds the same per-cell statistics


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(parent_of=parents, threshold=st.sampled_from([0, 3, 5]), history=batches)
def test_incremental_scores_equal_a_full_recompute(db, parent_of, threshold, history):
    try:
        with transaction.atomic():
            run_history(parent_of, threshold, history)
            raise Rollback
    except Rollback:
        pass


def test_a_batch_reads_only_its_own_responses(org_tree):
    survey = build_survey(0)
    store = org_tree["stores"][0]
    first = {"nps": 10, "grid_a": 3, "grid_b": 3}
    row = submit_response(
        survey=survey, answers=first, unit=store, meta={"submitted_at": MOMENTS[0]}
    )
    apply_dirty_cell(survey_id=survey.pk, period=row.period)  # builds the statistics
    assert CellStatistics.objects.filter(period=row.period).exists()
    second = submit_response(
        survey=survey,
        answers={"nps": 0, "grid_a": 1, "grid_b": 2},
        unit=store,
        meta={"submitted_at": MOMENTS[0]},
    )
    apply_dirty_cell(survey_id=survey.pk, period=second.period)
    nps = MetricValue.objects.get(metric__key="customer.nps", unit=store, period=row.period)
    assert (nps.value, nps.n) == (0.0, 2)
    company = MetricValue.objects.get(
        metric__key="customer.nps", unit=org_tree["company"], period=row.period
    )
    assert (company.value, company.n) == (0.0, 2)


def test_full_recompute_leaves_waiting_responses_to_their_pass_and_counts_each_once(org_tree):
    survey = build_survey(0)
    store = org_tree["stores"][0]
    moment = {"submitted_at": MOMENTS[0]}
    done = submit_response(
        survey=survey, answers={"nps": 10, "grid_a": 1, "grid_b": 2}, unit=store, meta=moment
    )
    apply_dirty_cell(survey_id=survey.pk, period=done.period)
    for score in (0, 0):  # waiting in the change log when the full recompute runs
        submit_response(
            survey=survey, answers={"nps": score, "grid_a": 1, "grid_b": 2}, unit=store, meta=moment
        )
    recompute_cells()
    nps = MetricValue.objects.get(metric__key="customer.nps", unit=store, period=done.period)
    assert nps.n == 1
    apply_dirty_cell(survey_id=survey.pk, period=done.period)
    nps.refresh_from_db()
    assert (nps.n, nps.value) == (3, pytest.approx(-100 / 3))
    assert recompute_cells() == 0
