"""Changes shown to leaders are tested at the level of the design (issue 11, item 3).

A company's customers come in stores: its month-to-month change is tested with stores as
clusters. Oracle: statsmodels OLS of the respondent-level NPS codes (×100) on a period dummy
with cov_type="cluster" by store and use_t=True (t on G − 1 df). A single store's change is
tested on its respondents, exactly at small n (6/0/0 vs 3/2/1 → p = 2/11, STATISTICS.md).
"""

import numpy as np
import pytest
import statsmodels.api as sm

from linkage.leadership_selectors import readings_for_unit
from linkage.presentation import change_sentence
from surveys.aggregation import recompute_cells
from surveys.models import Metric
from surveys.services.metrics import ensure_metrics_for_questions
from surveys.visibility import SYSTEM
from tests.factories import QuestionFactory, SurveyFactory, add_answers

pytestmark = pytest.mark.django_db


def codes(scores: list[int]) -> list[int]:
    return [1 if score >= 9 else -1 if score <= 6 else 0 for score in scores]


def test_company_change_is_clustered_by_store(org_tree):
    question = QuestionFactory(survey=SurveyFactory(), code="nps", metric_key="customer.nps")
    ensure_metrics_for_questions()
    rng = np.random.default_rng(5)
    rows = []  # (store, period, code)
    for number, store in enumerate(org_tree["stores"]):
        for period in ("2026-01", "2026-02"):
            level = 0.3 + 0.15 * number + (0.1 if period == "2026-02" else 0)
            scores = np.clip(np.round(rng.normal(7 + 2 * level, 2.0, 30)), 0, 10).astype(int)
            add_answers(question, store, scores.tolist(), period=period, released=False)
            rows += [(number, period == "2026-02", code) for code in codes(scores.tolist())]
    recompute_cells(metric_keys=["customer.nps"])
    reading = next(iter(readings_for_unit(org_tree["company"], reader=SYSTEM).values()))
    store, after, code = (np.array(column) for column in zip(*rows, strict=True))
    design = sm.add_constant(after.astype(float))
    fit = sm.OLS(100.0 * code, design).fit(
        cov_type="cluster", cov_kwds={"groups": store}, use_t=True
    )
    assert reading.test_level == "stores" and reading.clusters == 4
    assert reading.comparison.difference == pytest.approx(fit.params[1], rel=1e-9)
    assert reading.comparison.p_value == pytest.approx(fit.pvalues[1], rel=1e-7)
    sentence = change_sentence(reading)
    assert "with 4 stores" in sentence and "stores, not customers" in sentence
    assert "(2026-01 to 2026-02)" in sentence


def test_single_store_small_change_uses_the_exact_test(org_tree):
    question = QuestionFactory(survey=SurveyFactory(), code="nps", metric_key="employee.enps")
    ensure_metrics_for_questions()
    store = org_tree["stores"][0]
    add_answers(question, store, [10] * 6, period="2026-01")
    add_answers(question, store, [10, 9, 9, 8, 7, 3], period="2026-02")  # 3/2/1
    Metric.objects.filter(key="employee.enps").update(name="eNPS")
    recompute_cells(metric_keys=["employee.enps"])
    reading = next(iter(readings_for_unit(store, reader=SYSTEM).values()))
    assert reading.test_level == "respondents"
    assert reading.comparison.p_value == pytest.approx(2 / 11, rel=1e-9)
    assert not reading.comparison.significant
    sentence = change_sentence(reading)
    assert sentence.startswith("eNPS fell from +100 to +33") and "an exact test" in sentence
    assert "this could be chance (p = 0.182)" in sentence
