"""Initiative verification compares treated with untreated stores, within the initiative's
segment, and adjusts for the several metrics it claims (issue 11, item 3).

Oracle: statsmodels OLS of the answer-level outcome on treated, after and treated × after,
cov_type="cluster" by store, use_t=True (the interaction is the DiD); Holm's adjustment from
statsmodels' multipletests.
"""

from decimal import Decimal

import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests

from linkage.models import Initiative
from linkage.presentation import initiative_sentences
from linkage.services.initiatives import verify_initiative_impact
from surveys.models import Metric, Question
from surveys.services.metrics import ensure_metrics_for_questions
from tests.factories import InitiativeFactory, QuestionFactory, SurveyFactory, add_answers

pytestmark = pytest.mark.django_db


def _rates(question, stores, rates, period, segment, rows, treated_codes):
    for store, rate in zip(stores, rates, strict=True):
        hits = round(rate * 100)
        add_answers(
            question,
            store,
            [1] * hits + [0] * (100 - hits),
            period=period,
            segment=segment,
            released=False,  # a customer survey: nothing to release
        )
        if segment == {"product": "X"}:
            after = period == "2025-06"
            rows += [(store.code, store.code in treated_codes, after, 1.0)] * hits
            rows += [(store.code, store.code in treated_codes, after, 0.0)] * (100 - hits)


def test_initiative_in_a_region_is_compared_with_untreated_stores_in_its_segment(org_tree):
    survey = SurveyFactory()
    question = QuestionFactory(
        survey=survey, type=Question.Type.NUMBER, metric_key="customer.delivery_complaint"
    )
    ensure_metrics_for_questions()
    stores, north = org_tree["stores"], org_tree["north"]
    treated_codes = {"n1", "n2"}
    rows: list[tuple] = []
    # Product X: complaints fall everywhere (a season), a little more in the North.
    _rates(
        question, stores, [0.20, 0.22, 0.21, 0.19], "2025-01", {"product": "X"}, rows, treated_codes
    )
    _rates(
        question, stores, [0.12, 0.13, 0.14, 0.13], "2025-06", {"product": "X"}, rows, treated_codes
    )
    # Product Y moves nowhere: with it mixed in, the segment would be diluted.
    for period in ("2025-01", "2025-06"):
        _rates(question, stores, [0.2] * 4, period, {"product": "Y"}, [], treated_codes)
    initiative = InitiativeFactory(
        stage=Initiative.Stage.SHIPPED,
        unit=north,
        segment_filter={"product": "X"},
        claimed_impact=Decimal("100000"),
        before_period="2025-01",
        after_period="2025-06",
    )
    initiative.metrics.add(Metric.objects.get(key="customer.delivery_complaint"))
    initiative = verify_initiative_impact(initiative=initiative)
    evidence = initiative.verification["metrics"][0]

    store, treated, after, outcome = (np.array(column) for column in zip(*rows, strict=True))
    design = sm.add_constant(np.column_stack([treated, after, treated & after]).astype(float))
    fit = sm.OLS(100.0 * outcome, design).fit(
        cov_type="cluster",
        cov_kwds={"groups": np.unique(store, return_inverse=True)[1]},
        use_t=True,
    )
    assert evidence["level"] == "stores (difference in differences)"
    assert evidence["difference"] == pytest.approx(fit.params[3], rel=1e-9)
    assert evidence["p_value"] == pytest.approx(fit.pvalues[3], rel=1e-6)
    # The before/after values are the North's Product X customers only.
    assert evidence["before"]["value"] == pytest.approx(21.0)
    assert evidence["after"]["value"] == pytest.approx(12.5)
    assert initiative.verification["segment"] == {"product": "X"}
    sentences = initiative_sentences(initiative)
    assert "compared with the stores without it" in sentences[0]
    assert "difference-in-differences" in sentences[0]


def test_several_metrics_are_holm_adjusted(org_tree):
    survey = SurveyFactory()
    complaints = QuestionFactory(
        survey=survey, type=Question.Type.NUMBER, metric_key="customer.delivery_complaint"
    )
    csat = QuestionFactory(survey=survey, type=Question.Type.CSAT, metric_key="customer.csat")
    ensure_metrics_for_questions()
    store = org_tree["stores"][0]
    add_answers(complaints, store, [1] * 40 + [0] * 160, period="2025-01", released=False)
    add_answers(complaints, store, [1] * 26 + [0] * 174, period="2025-06", released=False)
    add_answers(csat, store, [5] * 100 + [2] * 100, period="2025-01", released=False)
    add_answers(csat, store, [5] * 104 + [2] * 96, period="2025-06", released=False)
    initiative = InitiativeFactory(
        stage=Initiative.Stage.SHIPPED,
        claimed_impact=Decimal("100000"),
        before_period="2025-01",
        after_period="2025-06",
    )
    initiative.metrics.add(
        *Metric.objects.filter(key__in=["customer.delivery_complaint", "customer.csat"])
    )
    initiative = verify_initiative_impact(initiative=initiative)
    items = {item["metric"]: item for item in initiative.verification["metrics"]}
    from surveys.scoring import top_box
    from surveys.scoring.comparisons import compare

    raw = [
        compare(top_box(40, 200), top_box(26, 200)).p_value,
        compare(top_box(100, 200), top_box(104, 200)).p_value,
    ]
    holm = multipletests(raw, method="holm")[1]
    assert items["customer.delivery_complaint"]["p_value"] == pytest.approx(holm[0], rel=1e-9)
    assert items["customer.csat"]["p_value"] == pytest.approx(holm[1], rel=1e-9)
    assert "Holm" in items["customer.csat"]["method"]
    assert "adjusted for testing 2 metrics" in initiative_sentences(initiative)[0]
