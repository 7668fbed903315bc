"""The attack of the clustered tests on employee metrics: a region's published value gives the
sum of its hidden stores, and a cluster-robust variance built from every store would give their
sum of squares — two equations, so two hidden stores' scores could be solved for.

Set-up: threshold k = 5; the North region has stores A and B (8 answers each, shown) and C (2)
and D (3), both hidden; their pooled 5 answers are what North minus A and B already shows.
The South region's stores E, F, G (8 each) are the untreated ones of a North initiative.

The property asserted, for every reader of a clustered test on an employee metric (expectation
status, initiative verification, unit comparison): moving answers between C and D while
keeping their pooled counts (what the published numbers already reveal) changes no published
number, word or sentence.
"""

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client

from linkage.models import Initiative
from linkage.presentation import initiative_sentences
from linkage.services.expectations import create_expectation, frame_evidence
from linkage.services.initiatives import verify_initiative_impact
from surveys.models import Metric, MetricValue, OrgUnit, Question
from surveys.services.metrics import ensure_metrics_for_questions
from surveys.services.scores import recompute_all
from tests.factories import (
    InitiativeFactory,
    LeaderFactory,
    OrgUnitFactory,
    QuestionFactory,
    SurveyFactory,
    add_answers,
)

pytestmark = pytest.mark.django_db

K = 5
SHOWN = {
    "a": ([4, 4, 3, 5, 4, 3, 4, 4], [5, 4, 4, 5, 4, 4, 5, 4]),
    "b": ([3, 3, 2, 4, 3, 3, 3, 2], [3, 4, 3, 4, 3, 3, 4, 3]),
    "e": ([4, 3, 4, 3, 4, 3, 4, 3], [4, 3, 4, 3, 4, 3, 4, 4]),
    "f": ([2, 3, 2, 3, 2, 3, 2, 3], [2, 3, 3, 3, 2, 3, 2, 3]),
    "g": ([5, 4, 5, 4, 5, 4, 5, 4], [5, 4, 5, 4, 5, 4, 5, 5]),
}
# Two ways the hidden stores C (2 answers) and D (3) could have answered, with the same pooled
# counts and sums in each period: the published numbers must not tell them apart.
HIDDEN_SPLITS = {
    "c low, d high": {"c": ([1, 1], [1, 2]), "d": ([5, 5, 5], [5, 5, 5])},
    "c falls, d rises": {"c": ([5, 5], [1, 2]), "d": ([1, 1, 5], [5, 5, 5])},
}
PERIODS = ("2025-01", "2025-02")


def _tree() -> dict[str, OrgUnit]:
    company = OrgUnitFactory(code="acme", name="Acme", level=OrgUnit.Level.COMPANY)
    north = OrgUnitFactory(code="north", name="North", level=OrgUnit.Level.REGION, parent=company)
    south = OrgUnitFactory(code="south", name="South", level=OrgUnit.Level.REGION, parent=company)
    units = {"acme": company, "north": north, "south": south}
    for code, region in (("a", north), ("b", north), ("c", north), ("d", north)):
        units[code] = OrgUnitFactory(
            code=code, name=code.upper(), level=OrgUnit.Level.STORE, parent=region
        )
    for code in ("e", "f", "g"):
        units[code] = OrgUnitFactory(
            code=code, name=code.upper(), level=OrgUnit.Level.STORE, parent=south
        )
    return units


def _seed(split: str) -> tuple[dict[str, OrgUnit], Metric]:
    units = _tree()
    survey = SurveyFactory(employee=True, anonymity_threshold=K)
    question = QuestionFactory(
        survey=survey, type=Question.Type.LIKERT, metric_key="employee.job_satisfaction"
    )
    ensure_metrics_for_questions()
    for code, answers in {**SHOWN, **HIDDEN_SPLITS[split]}.items():
        for period, numbers in zip(PERIODS, answers, strict=True):
            add_answers(question, units[code], numbers, period=period)
    recompute_all()
    return units, Metric.objects.get(key="employee.job_satisfaction")


def _expectation_reading(units: dict[str, OrgUnit], metric: Metric) -> str:
    expectation = create_expectation(
        owner=LeaderFactory(),
        title="Raise job satisfaction in the North",
        metric=metric,
        unit=units["north"],
        segment_filter={},
        baseline_period=PERIODS[0],
        target_kind="absolute",
        target_change=0.5,
        start_date=date(2025, 1, 1),
        end_date=date(2025, 12, 31),
    )
    evidence = frame_evidence(expectation, today=date(2025, 3, 15))
    assert evidence, "the reader published no tested change"
    return repr([(item.period, item.value, item.change) for item in evidence])


def _initiative_reading(units: dict[str, OrgUnit], metric: Metric) -> str:
    initiative = InitiativeFactory(
        stage=Initiative.Stage.SHIPPED,
        unit=units["north"],
        segment_filter={},
        claimed_impact=Decimal("1000"),
        before_period=PERIODS[0],
        after_period=PERIODS[1],
    )
    initiative.metrics.add(metric)
    initiative = verify_initiative_impact(initiative=initiative)
    assert initiative.verification["metrics"][0]["level"].startswith("stores")
    return json.dumps(initiative.verification, sort_keys=True, default=str) + repr(
        initiative_sentences(initiative)
    )


def _unit_comparison_reading(units: dict[str, OrgUnit], metric: Metric) -> str:
    client = Client()
    client.force_login(LeaderFactory(username="reader"))
    pages = [client.get(f"/workspace/units/{code}/data.json") for code in ("acme", "north")]
    assert all(page.status_code == 200 for page in pages)
    return json.dumps([page.json() for page in pages], sort_keys=True)


READERS = {
    "expectation status": _expectation_reading,
    "initiative verification": _initiative_reading,
    "unit comparison": _unit_comparison_reading,
}


@pytest.mark.parametrize("reader", READERS)
def test_clustered_test_of_employee_metric_depends_on_hidden_stores_only_through_their_pool(
    reader,
):
    readings = []
    for split in HIDDEN_SPLITS:
        with transaction.atomic():  # two worlds in one test, each rolled back after reading
            units, metric = _seed(split)
            hidden = MetricValue.objects.filter(
                metric=metric, unit__code__in=["c", "d"], suppressed=False
            )
            assert not hidden.exists(), "C and D must be hidden for the attack to matter"
            readings.append(_without_ids(READERS[reader](units, metric)))
            transaction.set_rollback(True)
    assert readings[0] == readings[1]


def _without_ids(reading: str) -> str:
    """The reading without database ids and clock times (which differ between the worlds)."""
    reading = re.sub(r"\d{4}-\d\d-\d\dT[\d:.+]+", "<time>", reading)
    return re.sub(r"\b(id|pk|unit_id)\W+\d+", r"\1 #", reading)
