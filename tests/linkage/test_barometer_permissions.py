"""Only the leadership team proposes and votes; everybody else reads the pages or gets 403."""

import pytest

from linkage.exceptions import NotALeader
from linkage.models import BarometerProposal, BarometerVote
from linkage.services.barometer import propose_barometer, vote_on_barometer, withdraw_proposal
from tests.factories import GroupFactory, LeaderFactory, MetricFactory, UserFactory

pytestmark = pytest.mark.django_db

PROPOSALS = "/admin/linkage/barometerproposal/"


@pytest.fixture
def proposal():
    leader = LeaderFactory()
    metric = MetricFactory(key="customer.nps")
    return propose_barometer(proposer=leader, metric=metric, rationale="Predicts growth")


@pytest.fixture
def analyst():
    user = UserFactory(username="analyst", is_staff=True)
    user.groups.add(GroupFactory(name="Analysts"))
    return user


def test_non_leader_cannot_propose_vote_or_withdraw(proposal, unit_member):
    with pytest.raises(NotALeader):
        propose_barometer(proposer=unit_member, metric=MetricFactory(), rationale="Mine")
    with pytest.raises(NotALeader):
        vote_on_barometer(voter=unit_member, proposal=proposal, decision="approve")
    with pytest.raises(NotALeader):
        withdraw_proposal(actor=unit_member, proposal=proposal)
    assert BarometerProposal.objects.count() == 1 and not BarometerVote.objects.exists()


def test_superuser_outside_leadership_group_cannot_vote(proposal, owner):
    with pytest.raises(NotALeader):
        vote_on_barometer(voter=owner, proposal=proposal, decision="approve")


def test_inactive_leader_cannot_vote(proposal):
    leader = LeaderFactory(is_active=False)
    with pytest.raises(NotALeader):
        vote_on_barometer(voter=leader, proposal=proposal, decision="approve")


def test_admin_analyst_sees_proposal_read_only_without_vote_form(client, proposal, analyst):
    client.force_login(analyst)
    listing = client.get(PROPOSALS)
    page = client.get(f"{PROPOSALS}{proposal.pk}/change/")
    assert listing.status_code == 200 and page.status_code == 200
    assert "Predicts growth" in page.content.decode()
    assert 'id="vote-form"' not in page.content.decode()
    assert client.get(f"{PROPOSALS}add/").status_code == 403


def test_admin_non_leader_vote_and_propose_posts_are_forbidden(client, proposal, analyst, owner):
    for user in (analyst, owner):
        client.force_login(user)
        vote = client.post(f"{PROPOSALS}{proposal.pk}/vote/", {"decision": "approve"})
        propose = client.post(f"{PROPOSALS}add/", {"metric": proposal.metric_id})
        assert (vote.status_code, propose.status_code) == (403, 403)
    assert not BarometerVote.objects.exists()


def test_admin_staff_without_role_or_permission_gets_403(client, proposal, unit_member):
    client.force_login(unit_member)
    assert client.get(PROPOSALS).status_code == 403
    assert client.get("/admin/common/auditevent/").status_code == 403


def test_admin_anonymous_is_sent_to_login(client, proposal):
    response = client.get(PROPOSALS)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_leader_proposes_and_votes_through_forms(client):
    leader = LeaderFactory()
    metric = MetricFactory(key="customer.csat")
    client.force_login(leader)
    response = client.post(
        f"{PROPOSALS}add/",
        {
            "metric": metric.pk,
            "rationale": "Easy to act on",
            "rule": "unanimous",
            "quorum_share": 1,
        },
    )
    proposal = BarometerProposal.objects.get(metric=metric)
    assert response.status_code == 302
    page = client.get(f"{PROPOSALS}{proposal.pk}/change/")
    assert 'id="vote-form"' in page.content.decode()
    client.post(f"{PROPOSALS}{proposal.pk}/vote/", {"decision": "approve", "comment": "Yes"})
    proposal.refresh_from_db()
    assert proposal.status == BarometerProposal.Status.AGREED  # the only leader approved


def test_admin_propose_form_shows_service_refusal(client, proposal):
    client.force_login(LeaderFactory())
    response = client.post(
        f"{PROPOSALS}add/",
        {"metric": proposal.metric_id, "rationale": "Again", "rule": "quorum", "quorum_share": 0.5},
    )
    assert response.status_code == 200
    assert "already has an open proposal" in response.content.decode()
    assert BarometerProposal.objects.count() == 1


def test_admin_audit_log_and_history_are_read_only(client, proposal):
    client.force_login(LeaderFactory())
    for page in ("common/auditevent", "linkage/barometer", "linkage/barometervote"):
        assert client.get(f"/admin/{page}/").status_code == 200
        assert client.get(f"/admin/{page}/add/").status_code == 403


def test_admin_vote_table_shows_when_a_changed_vote_was_last_cast(client, proposal):
    second = LeaderFactory()
    vote_on_barometer(voter=second, proposal=proposal, decision="reject", comment="Noisy")
    BarometerVote.objects.filter(voter=second).update(created_at="2026-01-05T09:00:00Z")
    proposal = BarometerProposal.objects.get(pk=proposal.pk)
    client.force_login(second)
    page = client.get(f"{PROPOSALS}{proposal.pk}/change/").content.decode()
    assert "(changed; first cast Jan. 5, 2026" in page
