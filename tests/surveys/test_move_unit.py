"""Moving a unit re-roots its subtree and recomputes everything that rolls up the tree."""

import pytest
from django.core.exceptions import ValidationError

from linkage.services.outcomes import import_outcome_file
from surveys.models import MetricValue, OrgUnit
from surveys.services.metrics import ensure_metrics_for_questions
from surveys.services.scores import recompute_all
from surveys.services.units import move_unit, save_unit
from tests.factories import OrgUnitFactory, QuestionFactory, add_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored_tree(org_tree, django_capture_on_commit_callbacks):
    """NPS answers at n1 (two promoters) and s1 (two detractors), scores stored."""
    question = QuestionFactory(code="nps", metric_key="customer.nps")
    ensure_metrics_for_questions()
    stores = {store.code: store for store in org_tree["stores"]}
    add_answers(question, stores["n1"], [10, 10])
    add_answers(question, stores["s1"], [0, 0])
    recompute_all()
    return org_tree, stores


def _nps(unit: OrgUnit) -> MetricValue:
    return MetricValue.objects.get(metric__key="customer.nps", unit=unit, period="2026-01")


def test_move_unit_re_roots_the_whole_subtree_with_paths_and_depths(org_tree):
    team = OrgUnitFactory(code="n1-team", level=OrgUnit.Level.TEAM, parent=org_tree["stores"][0])
    move_unit(unit=org_tree["stores"][0], parent=org_tree["south"])
    team.refresh_from_db()
    south = org_tree["south"]
    assert team.path.startswith(south.path) and team.depth == south.depth + 2
    assert list(team.ancestors().values_list("code", flat=True)) == ["acme", "south", "n1"]


def test_move_unit_recomputes_the_scores_of_old_and_new_ancestors(
    scored_tree, django_capture_on_commit_callbacks
):
    org_tree, stores = scored_tree
    assert _nps(org_tree["north"]).value == pytest.approx(100.0)
    with django_capture_on_commit_callbacks(execute=True):
        move_unit(unit=stores["n1"], parent=org_tree["south"])
    assert not MetricValue.objects.filter(unit=org_tree["north"], metric__key="customer.nps")
    south = _nps(org_tree["south"])
    assert south.n == 4 and south.value == pytest.approx(0.0)


def test_move_unit_rolls_imported_outcomes_up_under_the_new_parent(org_tree):
    lines = ["unit_code,period,metric_key,value", "n1,2026-01,outcome.revenue,100"]
    lines += ["n2,2026-01,outcome.revenue,50", "s1,2026-01,outcome.revenue,7"]
    import_outcome_file(lines=lines, create_metrics=True)
    move_unit(unit=OrgUnit.objects.get(code="n1"), parent=org_tree["south"])

    def revenue(code: str) -> float:
        row = MetricValue.objects.get(metric__key="outcome.revenue", unit__code=code)
        return row.value

    assert revenue("north") == pytest.approx(50.0)
    assert revenue("south") == pytest.approx(107.0)
    assert revenue("acme") == pytest.approx(157.0)


def test_move_unit_below_its_own_subtree_is_refused(org_tree):
    with pytest.raises(ValidationError):
        move_unit(unit=org_tree["north"], parent=org_tree["stores"][0])
    org_tree["north"].refresh_from_db()
    assert org_tree["north"].parent == org_tree["company"]


def test_save_unit_without_a_new_parent_only_saves(org_tree):
    store = org_tree["stores"][0]
    store.name = "Renamed"
    save_unit(unit=store, changed_fields=["name"])
    store.refresh_from_db()
    assert store.name == "Renamed" and store.parent == org_tree["north"]
