"""The initiative funnel: stage moves, before/after verification, summary counts and money."""

from decimal import Decimal

import pytest

from common.models import AuditEvent
from linkage.exceptions import InitiativeError
from linkage.leadership_selectors import funnel_summary
from linkage.models import Initiative
from linkage.presentation import funnel_text
from linkage.services.initiatives import (
    advance_initiative,
    move_initiative_back,
    verify_initiative_impact,
)
from surveys.models import Metric, Question
from surveys.services.metrics import ensure_metrics_for_questions
from tests.factories import InitiativeFactory, LeaderFactory, QuestionFactory, add_answers

pytestmark = pytest.mark.django_db

Stage = Initiative.Stage


def _funnel(ideas, prioritised, shipped, measured):
    for stage, count in ((1, ideas), (2, prioritised), (3, shipped)):
        InitiativeFactory.create_batch(count, stage=stage)
    for verified, claimed in measured:
        InitiativeFactory(stage=Stage.MEASURED, verified_impact=verified, claimed_impact=claimed)


def test_funnel_summary_counts_everything_that_reached_each_stage():
    _funnel(3, 2, 1, [(Decimal("1500000"), Decimal("1800000")), (None, Decimal("500000"))])
    summary = funnel_summary()
    assert (summary.ideas, summary.prioritised, summary.shipped, summary.measured) == (8, 5, 3, 2)
    assert summary.retained == Decimal("2000000")
    assert funnel_text(summary) == (
        "8 ideas → 5 prioritised → 3 shipped → $2.0M retained "
        "($500K of it claimed, not yet verified)"
    )


def test_funnel_summary_all_verified_has_no_claimed_label():
    _funnel(55, 15, 0, [(Decimal("400000"), None)] * 5)
    assert funnel_text(funnel_summary()) == "75 ideas → 20 prioritised → 5 shipped → $2.0M retained"


def test_advance_moves_one_stage_and_sets_shipped_date():
    initiative = InitiativeFactory()
    advance_initiative(actor=None, initiative=initiative)
    initiative = advance_initiative(actor=None, initiative=initiative)
    assert initiative.stage == Stage.SHIPPED and initiative.shipped_at is not None
    with pytest.raises(InitiativeError, match="verify its impact"):
        advance_initiative(actor=None, initiative=initiative)
    assert AuditEvent.objects.filter(action="initiative.advanced").count() == 2


def test_move_back_needs_a_reason_and_clears_evidence():
    initiative = InitiativeFactory(
        stage=Stage.MEASURED, verified_impact=Decimal(10), verification={"supported": True}
    )
    with pytest.raises(InitiativeError, match="never silent"):
        move_initiative_back(actor=None, initiative=initiative, stage=Stage.SHIPPED, reason=" ")
    initiative = move_initiative_back(
        actor=LeaderFactory(), initiative=initiative, stage=Stage.SHIPPED, reason="Bad data"
    )
    assert initiative.stage == Stage.SHIPPED
    assert initiative.verification == {} and initiative.verified_impact is None
    assert AuditEvent.objects.get(action="initiative.moved_back").details["reason"] == "Bad data"


@pytest.fixture
def complaint_initiative(org_tree):
    """Complaints 20 % of 200 before, `after` of 200 in the after period."""
    question = QuestionFactory(type=Question.Type.NUMBER, metric_key="customer.delivery_complaint")
    ensure_metrics_for_questions()
    store = org_tree["stores"][0]
    add_answers(question, store, [1] * 40 + [0] * 160, period="2025-01")
    initiative = InitiativeFactory(
        stage=Stage.SHIPPED,
        claimed_impact=Decimal("250000"),
        before_period="2025-01",
        after_period="2025-06",
    )
    initiative.metrics.add(Metric.objects.get(key="customer.delivery_complaint"))
    initiative.question, initiative.store = question, store
    return initiative


def test_verify_impact_significant_improvement_verifies_claim(complaint_initiative):
    initiative = complaint_initiative
    add_answers(initiative.question, initiative.store, [1] * 10 + [0] * 190, period="2025-06")
    initiative = verify_initiative_impact(initiative=initiative)
    evidence = initiative.verification["metrics"][0]
    assert evidence["before"]["value"] == pytest.approx(20.0)
    assert evidence["after"]["value"] == pytest.approx(5.0)
    assert evidence["significant"] is True and evidence["improved"] is True
    assert evidence["p_value"] < 0.05
    assert initiative.verification["supported"] is True
    assert initiative.stage == Stage.MEASURED
    assert initiative.verified_impact == Decimal("250000")


def test_verify_impact_without_significant_change_verifies_nothing(complaint_initiative):
    initiative = complaint_initiative
    add_answers(initiative.question, initiative.store, [1] * 38 + [0] * 162, period="2025-06")
    initiative = verify_initiative_impact(initiative=initiative)
    assert initiative.verification["supported"] is False
    assert initiative.verified_impact == Decimal(0)
    assert funnel_summary().retained == Decimal(0)


def test_verify_impact_refuses_missing_after_data(complaint_initiative):
    with pytest.raises(InitiativeError, match="2025-06"):
        verify_initiative_impact(initiative=complaint_initiative)
    complaint_initiative.refresh_from_db()
    assert complaint_initiative.stage == Stage.SHIPPED


def test_initiative_admin_changelist_shows_funnel(client, owner):
    _funnel(2, 1, 0, [])
    client.force_login(owner)
    response = client.get("/admin/linkage/initiative/")
    assert response.status_code == 200
    assert "3 ideas → 1 prioritised → 0 shipped → $0 retained" in response.content.decode()
