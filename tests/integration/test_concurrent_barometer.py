"""Two agreements at once on PostgreSQL: exactly one barometer in force, the loser told why."""

import threading

import pytest
from django.db import connection, connections, transaction

from linkage.exceptions import BarometerConflict
from linkage.models import Barometer, BarometerProposal, BarometerVote
from linkage.services.barometer import propose_barometer, vote_on_barometer
from tests.conftest import skip_or_fail
from tests.factories import LeaderFactory, MetricFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_proposals_one_vote_short():
    if connection.vendor != "postgresql":
        skip_or_fail("concurrent barometer agreement needs PostgreSQL (row locks)")
    leaders = [LeaderFactory(), LeaderFactory()]
    proposals = []
    for key in ("customer.nps", "customer.csat"):
        proposal = propose_barometer(
            proposer=leaders[0], metric=MetricFactory(key=key), rationale="Best predictor"
        )
        vote_on_barometer(voter=leaders[0], proposal=proposal, decision="approve")
        proposals.append(proposal)
    return leaders, proposals


def _hold_agreement_open(voter, proposal, agreed, release, errors):
    """Agree inside a transaction that stays uncommitted until `release` is set."""
    try:
        with transaction.atomic():
            vote_on_barometer(voter=voter, proposal=proposal, decision="approve")
            agreed.set()
            release.wait(timeout=10)
    except Exception as error:  # reported to the test thread
        errors.append(error)
    finally:
        connections.close_all()


def _agree(voter, proposal, outcomes):
    try:
        vote_on_barometer(voter=voter, proposal=proposal, decision="approve")
        outcomes.append("agreed")
    except BarometerConflict as error:
        outcomes.append(error)
    finally:
        connections.close_all()


def _race(voter, first, second):
    agreed, release, errors, outcomes = threading.Event(), threading.Event(), [], []
    holder = threading.Thread(
        target=_hold_agreement_open, args=(voter, first, agreed, release, errors)
    )
    holder.start()
    assert agreed.wait(timeout=10), errors
    racer = threading.Thread(target=_agree, args=(voter, second, outcomes))
    racer.start()
    racer.join(timeout=0.5)
    # Still running: the racer is blocked on the in-force row lock or the unique index.
    blocked = racer.is_alive() and not outcomes
    release.set()
    holder.join(timeout=10)
    racer.join(timeout=10)
    assert blocked, "the second agreement did not wait for the first: no race was tested"
    return errors, outcomes


def test_concurrent_agreements_leave_one_barometer_and_loser_open(two_proposals_one_vote_short):
    (_, voter), (first, second) = two_proposals_one_vote_short
    errors, outcomes = _race(voter, first, second)
    assert errors == []
    assert len(outcomes) == 1 and isinstance(outcomes[0], BarometerConflict)
    assert "stays open" in outcomes[0].message
    in_force = Barometer.objects.get(in_force=True)
    assert in_force.proposal_id == first.pk
    second.refresh_from_db()
    assert second.status == BarometerProposal.Status.OPEN
    assert not BarometerVote.objects.filter(proposal=second, voter=voter).exists()


def test_concurrent_agreement_replacing_a_barometer_in_force(two_proposals_one_vote_short):
    leaders, (first, second) = two_proposals_one_vote_short
    third = propose_barometer(
        proposer=leaders[0], metric=MetricFactory(key="customer.ces"), rationale="Effort"
    )
    for leader in leaders:
        vote_on_barometer(voter=leader, proposal=third, decision="approve")
    errors, outcomes = _race(leaders[1], first, second)
    assert errors == [] and isinstance(outcomes[0], BarometerConflict)
    in_force = Barometer.objects.filter(in_force=True).values_list("proposal", flat=True)
    assert list(in_force) == [first.pk]
    archived = Barometer.objects.get(proposal=third)
    assert archived.in_force is False and archived.ended_at is not None
