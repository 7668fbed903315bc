"""The app shell: each role's home after login, the nav bar, styled refusals."""

import logging

import pytest

from tests.factories import LeaderFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_lands_leader_on_company_page(client, leader, org_tree):
    leader.set_password("pw-leader-1")
    leader.save()
    answer = client.post(
        "/workspace/login/", {"username": "leader", "password": "pw-leader-1"}, follow=True
    )
    assert answer.redirect_chain[-1][0] == "/workspace/units/acme/"
    assert answer.status_code == 200


def test_home_of_analyst_is_company_and_of_manager_is_their_unit(client, analyst, unit_member):
    client.force_login(analyst)
    assert client.get("/workspace/")["Location"] == "/workspace/units/acme/"
    client.force_login(unit_member)
    assert client.get("/workspace/")["Location"] == "/workspace/units/north/"


def test_home_of_superuser_offers_a_choice(client, owner, org_tree):
    client.force_login(owner)
    assert client.get("/workspace/")["Location"] == "/workspace/choose/"
    page = client.get("/workspace/choose/").content.decode()
    assert 'href="/workspace/units/acme/"' in page and 'href="/admin/"' in page


def test_user_without_role_gets_styled_refusal(client, outsider):
    client.force_login(outsider)
    answer = client.get("/workspace/")
    assert answer.status_code == 403
    page = answer.content.decode()
    assert "What you can do" in page and "ask an administrator" in page
    assert 'class="shell-nav"' in page


def test_anonymous_visitor_is_sent_to_workspace_login(client, org_tree):
    answer = client.get("/workspace/units/acme/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/workspace/login/?next=")


def test_nav_shows_user_role_units_logout_and_permitted_links(client, unit_member):
    client.force_login(unit_member)
    page = client.get("/workspace/units/north/").content.decode()
    assert 'data-role="user">manager<' in page
    assert 'data-role="role">Unit manager<' in page
    assert 'href="/workspace/units/north/">North</a>' in page
    assert 'action="/workspace/logout/"' in page
    assert 'data-nav="dashboard"' in page and 'data-nav="responses"' in page
    assert 'data-nav="leadership"' not in page  # leaders only
    assert 'data-nav="admin"' in page  # staff


def test_leader_nav_has_leadership_and_no_admin_without_staff(client, org_tree):
    client.force_login(LeaderFactory(username="plain-leader", is_staff=False))
    page = client.get("/workspace/units/acme/").content.decode()
    assert 'data-role="role">Leader<' in page
    assert 'data-nav="leadership"' in page and 'data-nav="admin"' not in page


def test_manager_refused_other_unit_with_styled_page_and_no_traceback(
    client, unit_member, org_tree, caplog
):
    client.force_login(unit_member)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        answer = client.get("/workspace/units/s1/")
        unknown = client.get("/workspace/units/no-such-unit/")
    assert answer.status_code == unknown.status_code == 403
    page = answer.content.decode()
    assert "not in the part of the organisation your role covers" in page
    assert 'href="/workspace/"' in page  # what to do next
    refusal = page[page.index('data-role="refusal"') :]
    assert refusal == unknown.content.decode()[len(page) - len(refusal) :]  # no probing
    assert all(record.exc_info is None for record in caplog.records)


def test_unknown_page_is_styled_404_in_the_shell(client, leader, org_tree):
    client.force_login(leader)
    answer = client.get("/workspace/units/no-such-unit/")
    assert answer.status_code == 404
    assert "There is nothing at this address" in answer.content.decode()


def test_logout_ends_the_session(client, leader, org_tree):
    client.force_login(leader)
    assert client.post("/workspace/logout/").status_code == 302
    assert client.get("/workspace/units/acme/").status_code == 302


def test_manager_of_two_units_sees_both_in_nav(client, org_tree):
    user = UserFactory(username="two-units", is_staff=False)
    user.managed_units.add(org_tree["north"], org_tree["stores"][2])
    client.force_login(user)
    page = client.get("/workspace/units/north/").content.decode()
    assert ">North</a>, <a" in page and ">S1</a>" in page
