"""Employee results below the anonymity threshold are hidden, also from subtraction."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.aggregation import compute_group_value, recompute_cells
from surveys.aggregation.cells import suppression_mask
from surveys.models import Answer, Metric, MetricValue, OrgUnit, Response
from surveys.selectors import metric_value_panel, metric_values
from surveys.services.metrics import ensure_metrics_for_questions
from surveys.visibility import SYSTEM
from tests.factories import OrgUnitFactory, QuestionFactory, SurveyFactory, release_answers

pytestmark = pytest.mark.django_db

THRESHOLD = 5


@pytest.fixture
def tree():
    """Company → A (a1, a2, a3) and B (b1, b2)."""
    company = OrgUnitFactory(code="co", level=OrgUnit.Level.COMPANY)
    regions = {
        code: OrgUnitFactory(code=code, level=OrgUnit.Level.REGION, parent=company)
        for code in ("A", "B")
    }
    stores = {
        code: OrgUnitFactory(code=code, parent=regions[code[0].upper()])
        for code in ("a1", "a2", "a3", "b1", "b2")
    }
    return {"co": company, **regions, **stores}


@pytest.fixture
def enps():
    survey = SurveyFactory(employee=True, anonymity_threshold=THRESHOLD)
    question = QuestionFactory(survey=survey, code="enps", metric_key="employee.enps")
    ensure_metrics_for_questions()
    return question


def answer(question, unit, scores, period="2026-01"):
    responses = Response.objects.bulk_create(
        Response(survey_id=question.survey_id, unit=unit, period=period) for _ in scores
    )
    Answer.objects.bulk_create(
        Answer(response=response, question=question, number=score)
        for response, score in zip(responses, scores, strict=True)
    )
    release_answers()  # a closed wave, released


def cells() -> dict[str, MetricValue]:
    return {row.unit.code: row for row in MetricValue.objects.select_related("unit")}


@pytest.fixture
def scored(tree, enps):
    """a1 has 3 respondents (primary), a2 6 (its sibling hides it), a3 7; b1 2 and b2 10."""
    for code, scores in {
        "a1": [10, 10, 0],
        "a2": [9] * 6,
        "a3": [5] * 7,
        "b1": [10, 0],
        "b2": [8] * 10,
    }.items():
        answer(enps, tree[code], scores)
    recompute_cells()
    return cells()


def test_suppression_hides_cell_below_threshold_and_parent_still_counts_it(scored):
    hidden = scored["a1"]
    assert hidden.suppressed and hidden.value is None and hidden.ci_low is None
    assert hidden.n == 0 and hidden.details == {"threshold": THRESHOLD}
    region = scored["A"]
    assert not region.suppressed and region.n == 16
    assert region.details["promoters"] == 8 and region.details["detractors"] == 8
    assert scored["co"].n == 28 and not scored["co"].suppressed


def test_suppression_hides_next_smallest_sibling(scored):
    assert scored["a2"].suppressed and not scored["a3"].suppressed  # 3 hidden → hide 6 too
    assert scored["b1"].suppressed and scored["b2"].suppressed  # the only sibling is hidden
    assert not scored["B"].suppressed and scored["B"].n == 12


def test_suppression_leaves_no_small_remainder_to_subtract(tree, scored):
    for parent in OrgUnit.objects.filter(children__isnull=False).distinct():
        children = [row for row in scored.values() if row.unit.parent_id == parent.pk]
        visible = [row.n for row in children if not row.suppressed]
        remainder = scored[parent.code].n - sum(visible)
        assert not visible or remainder == 0 or remainder >= THRESHOLD


def test_suppression_counts_answers_given_at_the_parent_as_hidden(tree, enps):
    answer(enps, tree["A"], [10, 10])  # two people answering at region level
    answer(enps, tree["a1"], [9] * 6)
    answer(enps, tree["a2"], [9] * 8)
    recompute_cells()
    rows = cells()
    assert rows["a1"].suppressed and not rows["a2"].suppressed and rows["A"].n == 16


def test_suppression_does_not_apply_to_customer_surveys(tree):
    question = QuestionFactory(metric_key="customer.nps")
    ensure_metrics_for_questions()
    answer(question, tree["a1"], [10])
    recompute_cells()
    assert not cells()["a1"].suppressed and cells()["a1"].value == 100.0


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.lists(st.integers(1, 12), min_size=1, max_size=5), min_size=1, max_size=4),
    threshold=st.integers(3, 6),
)
def test_suppression_mask_leaves_every_remainder_zero_or_at_threshold(sizes, threshold):
    # cell 0 = company, then one cell per region, then its stores
    n, parent = [float(sum(map(sum, sizes)))], [-1]
    for stores in sizes:
        region = len(n)
        n.append(float(sum(stores)))
        parent.append(0)
        n.extend(map(float, stores))
        parent.extend([region] * len(stores))
    n_array, parent_array = np.array(n), np.array(parent)
    hidden = suppression_mask(n_array, parent_array, threshold)
    assert hidden[n_array < threshold].all()
    for cell in range(len(n)):
        visible = (parent_array == cell) & ~hidden
        remainder = n_array[cell] - n_array[visible].sum()
        assert not visible.any() or remainder == 0 or remainder >= threshold


def test_suppression_hides_a_child_of_a_hidden_region_that_would_rebuild_it(tree, enps):
    answer(enps, tree["a1"], [10, 10, 0])  # region A: 3 respondents, hidden
    answer(enps, tree["b1"], [8] * 12)
    answer(enps, tree["b2"], [9] * 5)
    recompute_cells()
    rows = cells()
    assert rows["A"].suppressed and rows["B"].suppressed  # co − B would show A's three
    # b1 + b2 would rebuild B and so A = co − b1 − b2: one of them is hidden as well.
    assert rows["b2"].suppressed and not rows["b1"].suppressed
    assert rows["co"].n - rows["b1"].n == 8


def _leaf_membership(parent: list[int], leaves: list[int]) -> np.ndarray:
    """cells × leaves: 1 where the leaf lies in the cell's subtree."""
    member = np.zeros((len(parent), len(parent)))
    for leaf in leaves:
        cell = leaf
        while cell >= 0:
            member[cell, leaf] = 1.0
            cell = parent[cell]
    return member


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    size=st.integers(2, 14),
    threshold=st.integers(3, 6),
)
def test_suppression_mask_leaves_no_small_group_derivable_from_visible_cells(data, size, threshold):
    # A random tree of any depth; leaves hold the answers, every cell sums its leaves.
    parent = [-1] + [data.draw(st.integers(0, cell - 1)) for cell in range(1, size)]
    leaves = [cell for cell in range(size) if cell not in parent]
    counts = np.zeros(size)
    counts[leaves] = data.draw(
        st.lists(st.integers(1, 12), min_size=len(leaves), max_size=len(leaves))
    )
    member = _leaf_membership(parent, leaves)
    n = member @ counts
    hidden = suppression_mask(n, np.array(parent), threshold)
    # A small cell is derivable when its row lies in the span of the visible cells' rows.
    visible_rows = member[~hidden]
    rank = np.linalg.matrix_rank(visible_rows) if len(visible_rows) else 0
    for cell in np.flatnonzero(n < threshold):
        assert hidden[cell]
        assert np.linalg.matrix_rank(np.vstack([visible_rows, member[cell]])) > rank


def test_metric_values_selector_masks_suppressed_rows(scored):
    rows = {
        row.unit.code: row for row in metric_values(reader=SYSTEM, metric_keys=["employee.enps"])
    }
    assert rows["a1"].n is None and rows["a1"].value is None and rows["a1"].details == {}
    assert rows["a3"].n == 7 and rows["a3"].value == pytest.approx(-100.0)
    level_rows = metric_values(reader=SYSTEM, level=OrgUnit.Level.REGION, periods=["2026-01"])
    assert sorted(row.unit.code for row in level_rows) == ["A", "B"]


def test_metric_values_selector_limits_users_to_their_units(tree, scored, owner, outsider):
    manager = owner.__class__.objects.create(username="a-manager", is_staff=True)
    manager.managed_units.add(tree["A"])
    assert {row.unit.code for row in metric_values(reader=manager)} == {"A", "a1", "a2", "a3"}
    assert metric_values(reader=outsider).count() == 0
    assert metric_values(reader=owner).count() == len(scored)


def test_metric_value_panel_leaves_out_and_counts_suppressed_cells(tree, scored):
    panel = metric_value_panel(
        reader=SYSTEM, metric_keys=["employee.enps"], level=OrgUnit.Level.STORE, periods=["2026-01"]
    )
    codes = [OrgUnit.objects.get(pk=unit_id).code for unit_id in panel.unit_ids]
    assert codes == ["a1", "a2", "a3", "b1", "b2"]
    assert panel.suppressed.tolist() == [4]
    assert np.isnan(panel.values[0, :, 0]).tolist() == [True, True, False, True, True]
    assert panel.n[0, 2, 0] == 7


def test_compute_group_value_suppresses_small_groups(tree, scored):
    metric = Metric.objects.get(key="employee.enps")
    small = compute_group_value(metric=metric, unit=tree["a1"], periods=["2026-01"])
    assert small.suppressed and small.value is None and small.n == 0
    region = compute_group_value(metric=metric, unit=tree["A"], periods=["2026-01"])
    assert not region.suppressed and region.n == 16 and region.value == pytest.approx(0.0)


def test_compute_group_value_hides_a_unit_hidden_by_complementary_suppression(tree, scored):
    metric = Metric.objects.get(key="employee.enps")
    # a2 has 6 respondents (above the threshold) but its stored cell is hidden, since
    # A − a2 − a3 would give a1 (3 respondents) away; an ad-hoc value must not undo that.
    assert scored["a2"].suppressed
    group = compute_group_value(metric=metric, unit=tree["a2"], periods=["2026-01"])
    assert group.suppressed and group.value is None and group.n == 0
    visible = compute_group_value(metric=metric, unit=tree["a3"], periods=["2026-01"])
    assert visible.n == 7 and visible.value == pytest.approx(-100.0)


def test_compute_group_value_hides_pooled_periods_when_one_is_hidden(tree, enps):
    answer(enps, tree["a1"], [9] * 7, period="2026-01")
    answer(enps, tree["a1"], [0] * 2, period="2026-02")  # hidden: pooled − 2026-01 shows it
    metric = Metric.objects.get(key="employee.enps")
    pooled = compute_group_value(metric=metric, unit=tree["a1"], periods=["2026-01", "2026-02"])
    assert pooled.suppressed and pooled.value is None and pooled.n == 0
    alone = compute_group_value(metric=metric, unit=tree["a1"], periods=["2026-01"])
    assert not alone.suppressed and alone.n == 7


def test_compute_group_value_refuses_a_segment_of_an_anonymous_metric(tree, enps):
    answer(enps, tree["b2"], [9] * 10)
    Response.objects.update(segment={"tenure": "new"})
    recompute_cells()
    metric = Metric.objects.get(key="employee.enps")
    with pytest.raises(ValueError, match="cannot be narrowed by a segment"):
        compute_group_value(
            metric=metric, unit=tree["B"], periods=["2026-01"], segment={"tenure": "new"}
        )


def test_suppression_mask_keeps_published_visibility_and_hides_new_cells_first():
    parent = np.array([-1, 0, 0, 0])
    n = np.array([8, 4, 1, 3])  # b (1) is hidden; a + c leave a remainder of 1
    assert suppression_mask(n, parent, 3).tolist() == [False, False, True, True]
    fixed = np.array([True, False, True, True])  # c was released visible, a is new
    kept = suppression_mask(n, parent, 3, fixed=fixed)
    assert kept.tolist() == [False, True, True, False]
    stays_hidden = np.array([False, False, False, True])  # c was released hidden
    assert suppression_mask(n, parent, 3, hidden=stays_hidden, fixed=fixed)[3]
