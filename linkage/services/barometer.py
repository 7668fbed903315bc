"""One barometer, agreed by the leadership team.

A leader proposes a metric with a rationale and an explicit agreement rule; leaders vote;
when the rule is met the proposal is agreed and, in the same transaction, the barometer in
force is ended and the new one starts. Every step writes an AuditEvent.

Decisions (tested in tests/linkage/test_barometer_*.py):
- Only active members of the Leadership group propose, vote and withdraw; superusers too
  must join the group, so "every current leader" is one well-defined set.
- A leader has one vote per proposal; voting again while the proposal is open replaces the
  earlier vote (the change is audited). A decided proposal takes no more votes.
- Votes of people who have since left the group do not count.
- The proposer's proposal is not an implicit approval: the proposer votes like everyone else.
"""

import math
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from common.roles import LEADERSHIP_GROUP, AnyUser, is_leader
from common.services import record_event
from surveys.models import Metric

from ..exceptions import BarometerConflict, InvalidProposal, NotALeader, ProposalClosed
from ..models import Barometer, BarometerProposal, BarometerVote

Rule = BarometerProposal.Rule
Decision = BarometerVote.Decision
OPEN = BarometerProposal.Status.OPEN


@dataclass(frozen=True)
class Tally:
    """Where a proposal stands under its rule; `outcome` is "open", "agreed" or "rejected"."""

    leaders: int
    approvals: int
    rejections: int
    needed: int
    outcome: str


def current_leaders() -> QuerySet:
    """Active members of the Leadership group."""
    return get_user_model().objects.filter(groups__name=LEADERSHIP_GROUP, is_active=True)


def approvals_needed(*, rule: str, quorum_share: float, leaders: int) -> int:
    """Unanimous: every leader. Quorum: ceil(share × leaders), at least one."""
    if rule == Rule.UNANIMOUS:
        return leaders
    # Rounding first keeps 0.6 × 5 = 3.0000000000000004 from becoming 4.
    return max(1, math.ceil(round(quorum_share * leaders, 9)))


def evaluate_rule(
    *, rule: str, quorum_share: float, leader_ids: set[int], votes: dict[int, str]
) -> Tally:
    """Apply the agreement rule to the votes of current leaders (pure).

    Unanimous: agreed when every current leader approved and none rejected; a single
    rejection rejects the proposal. Quorum: agreed when approvals ≥ ceil(share × leaders);
    rejected once the leaders who have not voted could no longer make up the quorum.
    """
    counted = {voter: decision for voter, decision in votes.items() if voter in leader_ids}
    approvals = sum(1 for decision in counted.values() if decision == Decision.APPROVE)
    rejections = len(counted) - approvals
    leaders = len(leader_ids)
    needed = approvals_needed(rule=rule, quorum_share=quorum_share, leaders=leaders)
    not_voted = leaders - len(counted)
    if rule == Rule.UNANIMOUS and rejections:
        outcome = "rejected"
    elif leaders and approvals >= needed:
        outcome = "agreed"
    elif leaders and approvals + not_voted < needed:
        outcome = "rejected"
    else:
        outcome = "open"
    return Tally(leaders, approvals, rejections, needed, outcome)


def tally(proposal: BarometerProposal) -> Tally:
    """The proposal's standing with today's leadership team."""
    leader_ids = set(current_leaders().values_list("pk", flat=True))
    votes = dict(proposal.votes.values_list("voter_id", "decision"))
    return evaluate_rule(
        rule=proposal.rule,
        quorum_share=proposal.quorum_share,
        leader_ids=leader_ids,
        votes=votes,
    )


def barometer_in_force() -> Barometer | None:
    """The one agreed barometer in force, or None before the first agreement."""
    return Barometer.objects.select_related("metric").filter(in_force=True).first()


def _check_proposal(*, metric: Metric, rationale: str, rule: str, quorum_share: float) -> None:
    if not rationale.strip():
        raise InvalidProposal("Say why this metric should be the one barometer (rationale).")
    if rule not in Rule.values:
        raise InvalidProposal(f"Unknown agreement rule '{rule}'; use unanimous or quorum.")
    if not 0 < quorum_share <= 1:
        raise InvalidProposal("The quorum is a share of leaders: more than 0 and at most 1.")
    current = barometer_in_force()
    if current is not None and current.metric_id == metric.pk:
        raise InvalidProposal(f"{metric} is already the barometer in force.")
    if BarometerProposal.objects.filter(metric=metric, status=OPEN).exists():
        raise InvalidProposal(f"{metric} already has an open proposal; vote on that one.")


def propose_barometer(
    *,
    proposer: User,
    metric: Metric,
    rationale: str,
    rule: str = Rule.UNANIMOUS,
    quorum_share: float = 1.0,
) -> BarometerProposal:
    """Open a proposal to make `metric` the one barometer; raises NotALeader/InvalidProposal."""
    require_leader(proposer)
    _check_proposal(metric=metric, rationale=rationale, rule=rule, quorum_share=quorum_share)
    if rule == Rule.UNANIMOUS:
        quorum_share = 1.0
    with transaction.atomic():
        proposal = BarometerProposal.objects.create(
            metric=metric,
            rationale=rationale.strip(),
            proposed_by=proposer,
            rule=rule,
            quorum_share=quorum_share,
        )
        record_event(
            proposer,
            "barometer.proposed",
            proposal,
            {"metric": metric.key, "rule": rule, "quorum_share": quorum_share},
        )
    return proposal


def _cast_vote(proposal: BarometerProposal, voter: User, decision: str, comment: str) -> None:
    previous = BarometerVote.objects.filter(proposal=proposal, voter=voter).first()
    BarometerVote.objects.update_or_create(
        proposal=proposal, voter=voter, defaults={"decision": decision, "comment": comment}
    )
    details = {"decision": decision, "comment": comment}
    if previous is not None:
        details["previous_decision"] = previous.decision
    action = "barometer.vote_changed" if previous else "barometer.voted"
    record_event(voter, action, proposal, details)


def vote_on_barometer(
    *,
    voter: User,
    proposal: BarometerProposal,
    decision: str,
    comment: str = "",
) -> BarometerProposal:
    """Record a leader's approve/reject vote and apply the proposal's rule.

    A rejection needs a comment saying why.
    Runs with the proposal row locked, so concurrent votes on one proposal are evaluated one
    after another. Raises NotALeader, ProposalClosed, InvalidProposal or BarometerConflict
    (another agreement won a race); nothing is written when it raises.
    """
    require_leader(voter)
    if decision not in Decision.values:
        raise InvalidProposal(f"Unknown decision '{decision}'; use approve or reject.")
    if decision == Decision.REJECT and not comment.strip():
        raise InvalidProposal("Say why you reject it, so the proposer can answer or withdraw.")
    with transaction.atomic():
        locked = BarometerProposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.status != OPEN:
            raise ProposalClosed()
        _cast_vote(locked, voter, decision, comment.strip())
        standing = tally(locked)
        if standing.outcome == "agreed":
            _put_in_force(locked, actor=voter, standing=standing)
        elif standing.outcome == "rejected":
            _close(locked, actor=voter, status=BarometerProposal.Status.REJECTED, standing=standing)
    return locked


def _close(proposal: BarometerProposal, *, actor: User, status: str, standing: Tally) -> None:
    proposal.status = status
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "decided_at", "updated_at"])
    record_event(actor, f"barometer.proposal_{status}", proposal, standing.__dict__)


def _put_in_force(proposal: BarometerProposal, *, actor: User, standing: Tally) -> None:
    """End the barometer in force and start the agreed one, inside the caller's transaction.

    The in-force row is locked first, so a concurrent agreement waits here; when it resumes
    the row is no longer in force and its insert hits the one-in-force constraint, which is
    turned into BarometerConflict (the caller's transaction, vote included, rolls back).
    """
    now = timezone.now()
    for previous in Barometer.objects.select_for_update().filter(in_force=True):
        previous.in_force = False
        previous.ended_at = now
        previous.save(update_fields=["in_force", "ended_at"])
        record_event(actor, "barometer.ended", previous, {"replaced_by": proposal.metric.key})
    try:
        with transaction.atomic():
            barometer = Barometer.objects.create(
                metric=proposal.metric, proposal=proposal, in_force=True, started_at=now
            )
    except IntegrityError as error:
        raise BarometerConflict() from error
    _close(proposal, actor=actor, status=BarometerProposal.Status.AGREED, standing=standing)
    record_event(actor, "barometer.started", barometer, {"metric": proposal.metric.key})


def withdraw_proposal(
    *, actor: User, proposal: BarometerProposal, reason: str = ""
) -> BarometerProposal:
    """The proposer withdraws an open proposal; raises NotALeader/ProposalClosed/InvalidProposal."""
    require_leader(actor)
    with transaction.atomic():
        locked = BarometerProposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.status != OPEN:
            raise ProposalClosed()
        if locked.proposed_by_id != actor.pk:
            raise InvalidProposal("Only the leader who proposed it may withdraw a proposal.")
        locked.status = BarometerProposal.Status.WITHDRAWN
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_at", "updated_at"])
        record_event(actor, "barometer.proposal_withdrawn", locked, {"reason": reason.strip()})
    return locked


def require_leader(user: AnyUser | None) -> None:
    """Raise NotALeader unless `user` belongs to the leadership team."""
    if not is_leader(user):
        raise NotALeader()
