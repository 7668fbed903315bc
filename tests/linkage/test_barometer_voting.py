"""Barometer agreement: unanimous and quorum rules, re-votes, one barometer in force."""

import pytest

from common.models import AuditEvent
from linkage.exceptions import InvalidProposal, ProposalClosed
from linkage.models import Barometer, BarometerProposal, BarometerVote
from linkage.services.barometer import (
    evaluate_rule,
    propose_barometer,
    vote_on_barometer,
    withdraw_proposal,
)
from tests.factories import LeaderFactory, MetricFactory

pytestmark = pytest.mark.django_db

APPROVE, REJECT = "approve", "reject"


@pytest.fixture
def leaders():
    return [LeaderFactory() for _ in range(3)]


def _propose(leader, key="customer.nps", **kwargs):
    metric = MetricFactory(key=key)
    return propose_barometer(proposer=leader, metric=metric, rationale="Predicts growth", **kwargs)


def test_unanimous_proposal_stays_open_until_every_leader_approves(leaders):
    proposal = _propose(leaders[0])
    for leader in leaders[:2]:
        proposal = vote_on_barometer(voter=leader, proposal=proposal, decision=APPROVE)
    assert proposal.status == BarometerProposal.Status.OPEN
    assert not Barometer.objects.exists()
    proposal = vote_on_barometer(voter=leaders[2], proposal=proposal, decision=APPROVE)
    assert proposal.status == BarometerProposal.Status.AGREED
    barometer = Barometer.objects.get(in_force=True)
    assert barometer.metric == proposal.metric and barometer.ended_at is None


def test_unanimous_proposal_rejected_by_one_rejection(leaders):
    proposal = _propose(leaders[0])
    vote_on_barometer(voter=leaders[0], proposal=proposal, decision=APPROVE)
    proposal = vote_on_barometer(
        voter=leaders[1], proposal=proposal, decision=REJECT, comment="Too noisy"
    )
    assert proposal.status == BarometerProposal.Status.REJECTED
    assert proposal.decided_at is not None
    with pytest.raises(ProposalClosed):
        vote_on_barometer(voter=leaders[2], proposal=proposal, decision=APPROVE)
    assert not Barometer.objects.exists()


def test_quorum_proposal_agreed_at_ceil_of_share(leaders):
    proposal = _propose(leaders[0], rule="quorum", quorum_share=0.5)  # ceil(1.5) = 2
    proposal = vote_on_barometer(voter=leaders[0], proposal=proposal, decision=APPROVE)
    assert proposal.status == BarometerProposal.Status.OPEN
    proposal = vote_on_barometer(
        voter=leaders[1], proposal=proposal, decision=REJECT, comment="Too noisy"
    )
    assert proposal.status == BarometerProposal.Status.OPEN
    proposal = vote_on_barometer(voter=leaders[2], proposal=proposal, decision=APPROVE)
    assert proposal.status == BarometerProposal.Status.AGREED


def test_quorum_proposal_rejected_when_quorum_out_of_reach(leaders):
    proposal = _propose(leaders[0], rule="quorum", quorum_share=0.6)  # ceil(1.8) = 2
    vote_on_barometer(voter=leaders[0], proposal=proposal, decision=REJECT, comment="Too noisy")
    proposal = vote_on_barometer(
        voter=leaders[1], proposal=proposal, decision=REJECT, comment="Too noisy"
    )
    assert proposal.status == BarometerProposal.Status.REJECTED


@pytest.mark.parametrize(
    ("rule", "share", "leaders", "approvals", "needed"),
    [("quorum", 0.6, 5, 3, 3), ("quorum", 0.5, 4, 2, 2), ("quorum", 0.01, 3, 1, 1)],
)
def test_evaluate_rule_quorum_needed_is_ceil_of_share(rule, share, leaders, approvals, needed):
    votes = dict.fromkeys(range(approvals), APPROVE)
    result = evaluate_rule(
        rule=rule, quorum_share=share, leader_ids=set(range(leaders)), votes=votes
    )
    assert result.needed == needed and result.outcome == "agreed"


def test_evaluate_rule_ignores_votes_of_former_leaders():
    votes = {1: APPROVE, 2: APPROVE, 99: REJECT}
    result = evaluate_rule(rule="unanimous", quorum_share=1.0, leader_ids={1, 2}, votes=votes)
    assert result.outcome == "agreed" and result.rejections == 0


def test_vote_again_replaces_earlier_vote_while_open(leaders):
    proposal = _propose(leaders[0], rule="quorum", quorum_share=1.0)
    vote_on_barometer(voter=leaders[0], proposal=proposal, decision=APPROVE)
    vote_on_barometer(voter=leaders[0], proposal=proposal, decision=APPROVE, comment="Sure")
    assert BarometerVote.objects.filter(proposal=proposal).count() == 1
    assert BarometerVote.objects.get(proposal=proposal).comment == "Sure"
    assert AuditEvent.objects.filter(action="barometer.vote_changed").count() == 1


def test_agreeing_second_barometer_archives_the_first_with_end_date(leaders):
    first = _propose(leaders[0], key="customer.nps")
    second = _propose(leaders[0], key="customer.csat")
    for leader in leaders:
        vote_on_barometer(voter=leader, proposal=first, decision=APPROVE)
    for leader in leaders:
        vote_on_barometer(voter=leader, proposal=second, decision=APPROVE)
    old, new = Barometer.objects.get(proposal=first), Barometer.objects.get(proposal=second)
    assert (old.in_force, new.in_force) == (False, True)
    assert old.ended_at == new.started_at
    assert Barometer.objects.filter(in_force=True).count() == 1


def test_every_step_writes_an_audit_event(leaders):
    proposal = _propose(leaders[0])
    for leader in leaders:
        vote_on_barometer(voter=leader, proposal=proposal, decision=APPROVE)
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions == [
        "barometer.proposed",
        "barometer.voted",
        "barometer.voted",
        "barometer.voted",
        "barometer.proposal_agreed",
        "barometer.started",
    ]


def test_propose_refuses_blank_rationale_and_duplicate_open_proposal(leaders):
    metric = MetricFactory(key="customer.nps")
    with pytest.raises(InvalidProposal, match="rationale"):
        propose_barometer(proposer=leaders[0], metric=metric, rationale="  ")
    propose_barometer(proposer=leaders[0], metric=metric, rationale="Loyalty")
    with pytest.raises(InvalidProposal, match="open proposal"):
        propose_barometer(proposer=leaders[1], metric=metric, rationale="Again")


def test_withdraw_only_by_proposer_and_closes_voting(leaders):
    proposal = _propose(leaders[0])
    with pytest.raises(InvalidProposal):
        withdraw_proposal(actor=leaders[1], proposal=proposal)
    proposal = withdraw_proposal(actor=leaders[0], proposal=proposal, reason="Rethink")
    assert proposal.status == BarometerProposal.Status.WITHDRAWN
    with pytest.raises(ProposalClosed):
        vote_on_barometer(voter=leaders[1], proposal=proposal, decision=APPROVE)


def test_vote_to_reject_without_a_comment_is_refused_and_not_counted(leaders):
    proposal = _propose(leaders[0])
    with pytest.raises(InvalidProposal, match="Say why"):
        vote_on_barometer(voter=leaders[1], proposal=proposal, decision=REJECT, comment="  ")
    proposal.refresh_from_db()
    assert proposal.status == BarometerProposal.Status.OPEN
    assert not BarometerVote.objects.filter(proposal=proposal).exists()
