"""A unit's change pairs the respondents who answered both periods (issue 11, item 3).

The same customer (one respondent key) answering in January and February is one respondent
measured twice, not two independent answers: the change gets the partially overlapping
samples t-test, its per-respondent sums computed in SQL. Oracles: scipy's ttest_rel when
everyone repeats, the T_new2 formula written out with numpy on the raw codes otherwise.
Employee and anonymous answers are never paired, whatever keys their rows carry.
"""

from decimal import Decimal

import numpy as np
import pytest
from scipy import stats

from linkage.leadership_selectors import readings_for_unit
from linkage.models import Initiative
from linkage.presentation import change_sentence, initiative_sentences
from linkage.services.initiatives import verify_initiative_impact
from surveys.aggregation import recompute_cells, respondent_overlap_sums
from surveys.models import Answer, Metric, Response
from surveys.services.metrics import ensure_metrics_for_questions
from surveys.visibility import SYSTEM
from tests.factories import InitiativeFactory, QuestionFactory, SurveyFactory, release_answers

pytestmark = pytest.mark.django_db


def codes(scores) -> np.ndarray:
    scores = np.asarray(scores)
    return np.where(scores >= 9, 1.0, np.where(scores <= 6, -1.0, 0.0))


def answer(question, unit, period: str, keyed: dict[str, list[int]]) -> None:
    """One response per score; respondent key "" means an unidentified respondent."""
    items = [(key, score) for key, scores in keyed.items() for score in scores]
    responses = Response.objects.bulk_create(
        Response(survey_id=question.survey_id, unit=unit, period=period, respondent_key=key)
        for key, _ in items
    )
    Answer.objects.bulk_create(
        Answer(response=response, question=question, number=score)
        for response, (_, score) in zip(responses, items, strict=True)
    )


def nps_question(name: str = "Customer NPS", **survey):
    question = QuestionFactory(survey=SurveyFactory(**survey), metric_key="customer.nps")
    ensure_metrics_for_questions()
    Metric.objects.filter(key="customer.nps").update(name=name)
    return question


def store_reading(store):
    recompute_cells(metric_keys=["customer.nps"])
    return next(iter(readings_for_unit(store, reader=SYSTEM).values()))


def test_store_change_with_every_customer_repeating_is_the_paired_t(org_tree):
    store, question = org_tree["stores"][0], nps_question()
    rng = np.random.default_rng(3)
    person = rng.normal(0, 1, 45)
    before = np.clip(np.rint(8 + 1.8 * (person + rng.normal(0, 0.5, 45))), 0, 10)
    after = np.clip(np.rint(8.3 + 1.8 * (person + rng.normal(0, 0.5, 45))), 0, 10)
    answer(question, store, "2026-01", {f"c{i}": [int(before[i])] for i in range(45)})
    answer(question, store, "2026-02", {f"c{i}": [int(after[i])] for i in range(45)})
    reading = store_reading(store)
    oracle = stats.ttest_rel(100 * codes(after), 100 * codes(before))
    assert reading.test_level == "respondents" and reading.paired == 45
    assert reading.comparison.statistic == pytest.approx(oracle.statistic, rel=1e-9)
    assert reading.comparison.p_value == pytest.approx(oracle.pvalue, rel=1e-9)
    assert reading.comparison.difference == pytest.approx(reading.change, rel=1e-9)


def test_store_change_with_some_repeaters_pairs_only_them(org_tree):
    store, question = org_tree["stores"][0], nps_question()
    rng = np.random.default_rng(4)
    repeat_first = rng.integers(3, 11, 20)
    repeat_second = np.clip(repeat_first + rng.integers(-1, 3, 20), 0, 10)
    only_first, only_second = rng.integers(0, 11, 25), rng.integers(2, 11, 18)
    answer(question, store, "2026-01", {f"c{i}": [int(repeat_first[i])] for i in range(20)})
    answer(question, store, "2026-02", {f"c{i}": [int(repeat_second[i])] for i in range(20)})
    answer(question, store, "2026-01", {f"a{i}": [int(only_first[i])] for i in range(15)})
    answer(question, store, "2026-01", {"": [int(score) for score in only_first[15:]]})
    answer(question, store, "2026-02", {"": [int(score) for score in only_second]})
    answer(question, org_tree["stores"][1], "2026-02", {"c0": [0, 0, 0]})  # another store
    reading = store_reading(store)

    first = codes(np.concatenate([only_first, repeat_first]))
    second = codes(np.concatenate([only_second, repeat_second]))
    n1, n2, nc, na, nb = 45, 38, 20, 25, 18
    r = np.corrcoef(codes(repeat_first), codes(repeat_second))[0, 1]
    v1, v2 = first.var(ddof=1), second.var(ddof=1)
    se = np.sqrt(v1 / n1 + v2 / n2 - 2 * r * np.sqrt(v1 * v2) * nc / (n1 * n2))
    welch = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    df = (nc - 1) + (welch - nc + 1) / (na + nb + 2 * nc) * (na + nb)
    t = (second.mean() - first.mean()) / se
    assert reading.paired == 20
    assert reading.comparison.difference == pytest.approx(reading.change, rel=1e-9)
    assert reading.comparison.statistic == pytest.approx(t, rel=1e-9)
    assert reading.comparison.df == pytest.approx(df, rel=1e-9)
    assert reading.comparison.p_value == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-9)
    sentence = change_sentence(reading)
    assert "from one unit's respondents, 20 of whom answered both periods and were paired" in (
        sentence
    )
    assert "a t test that pairs each repeat respondent's two answers" in sentence


def test_a_respondent_answering_twice_in_a_period_counts_once_with_the_mean(org_tree):
    store, question = org_tree["stores"][0], nps_question()
    answer(question, store, "2026-01", {"c1": [10, 3], "c2": [9], "c3": [5]})
    answer(question, store, "2026-02", {"c1": [10], "c2": [10], "c4": [7]})
    sums = respondent_overlap_sums(
        metrics=[Metric.objects.get(key=question.metric_key)],
        unit=store,
        periods=("2026-01", "2026-02"),
    )["customer.nps"]
    assert (sums.paired, sums.first_only, sums.second_only) == (2, 1, 1)
    assert sums.paired_first == pytest.approx(0.0 + 1.0)  # c1: mean of +1 and −1
    assert sums.paired_products == pytest.approx(0.0 * 1 + 1 * 1)
    assert (sums.first_only_total, sums.second_only_total) == (-1.0, 0.0)


def test_store_change_without_repeaters_keeps_the_independent_test(org_tree):
    store, question = org_tree["stores"][0], nps_question()
    answer(question, store, "2026-01", {f"a{i}": [9 - i % 4] for i in range(40)})
    answer(question, store, "2026-02", {f"b{i}": [10 - i % 5] for i in range(40)})
    reading = store_reading(store)
    assert reading.paired == 0 and "paired" not in change_sentence(reading)
    assert reading.comparison.method.startswith("NPS z-test")


def test_company_change_stays_clustered_by_store(org_tree):
    question = nps_question()
    for number, store in enumerate(org_tree["stores"]):
        for period in ("2026-01", "2026-02"):
            answer(question, store, period, {f"s{number}c{i}": [6 + i % 5] for i in range(30)})
    reading = store_reading(org_tree["company"])
    assert reading.test_level == "stores" and reading.paired == 0


def test_employee_answers_are_never_paired_even_with_keys_in_their_rows(org_tree):
    """Attack: rows of an anonymous employee pulse that carry respondent keys (written past
    the submission service, which never stores them) must not be linked across waves, and
    no count of repeat employees may appear anywhere."""
    store = org_tree["stores"][0]
    question = QuestionFactory(survey=SurveyFactory(employee=True), metric_key="employee.enps")
    ensure_metrics_for_questions()
    keys = {f"e{i}": [9 if i % 2 else 6] for i in range(8)}
    answer(question, store, "2026-01", keys)
    answer(question, store, "2026-02", {key: [10] for key in keys})
    release_answers()
    recompute_cells(metric_keys=["employee.enps"])
    periods = ("2026-01", "2026-02")
    assert (
        respondent_overlap_sums(
            metrics=[Metric.objects.get(key=question.metric_key)], unit=store, periods=periods
        )
        == {}
    )
    reading = next(iter(readings_for_unit(store, reader=SYSTEM).values()))
    assert reading.paired == 0 and "paired" not in change_sentence(reading)
    assert "partially overlapping" not in reading.comparison.method


def test_initiative_at_one_store_pairs_its_repeat_customers(org_tree):
    store, question = org_tree["stores"][0], nps_question()
    answer(question, store, "2026-01", {f"c{i}": [6 + i % 5] for i in range(36)})
    answer(question, store, "2026-04", {f"c{i}": [7 + i % 4] for i in range(24)})
    answer(question, store, "2026-04", {f"new{i}": [9] for i in range(10)})
    initiative = InitiativeFactory(
        unit=store,
        stage=Initiative.Stage.SHIPPED,
        before_period="2026-01",
        after_period="2026-04",
        claimed_impact=Decimal(1000),
    )
    initiative.metrics.set(Metric.objects.filter(key="customer.nps"))
    initiative = verify_initiative_impact(initiative=initiative)
    evidence = initiative.verification["metrics"][0]
    assert evidence["level"] == "respondents" and evidence["paired"] == 24
    assert "partially overlapping" in evidence["method"]
    assert "24 of whom answered both periods and were paired" in initiative_sentences(initiative)[0]
