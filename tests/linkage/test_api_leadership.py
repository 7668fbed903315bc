"""Barometer in force and performance expectations through the API, per role."""

from datetime import date

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from linkage.models import Barometer, BarometerProposal, PerformanceExpectation
from tests.factories import AnalystFactory, LeaderFactory, MetricFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def barometer():
    leader = LeaderFactory()
    metric = MetricFactory(key="customer.nps", name="Net Promoter Score")
    proposal = BarometerProposal.objects.create(
        metric=metric,
        rationale="Predicts growth",
        proposed_by=leader,
        status="agreed",
        decided_at=timezone.now(),
    )
    return Barometer.objects.create(metric=metric, proposal=proposal, started_at=timezone.now())


@pytest.fixture
def expectations(org_tree):
    metric = MetricFactory(key="customer.csat")
    owner = LeaderFactory()
    common = {
        "metric": metric,
        "owner": owner,
        "baseline_period": "2026-01",
        "target_kind": "absolute",
        "target_change": 5,
        "start_date": date(2026, 1, 1),
        "end_date": date(2026, 12, 31),
    }
    north = PerformanceExpectation.objects.create(title="North", unit=org_tree["north"], **common)
    south = PerformanceExpectation.objects.create(title="South", unit=org_tree["south"], **common)
    return north, south


def test_barometer_in_force_is_readable_by_every_role(barometer, unit_member):
    for user in (unit_member, AnalystFactory()):
        response = client_for(user).get("/api/v1/barometer/")
        assert response.status_code == 200
        assert response.json()["metric"]["key"] == "customer.nps"
        assert response.json()["rationale"] == "Predicts growth"


def test_barometer_not_agreed_yet_is_404(owner):
    response = client_for(owner).get("/api/v1/barometer/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_barometer"


def test_barometer_forbids_outsiders(barometer, outsider):
    assert client_for(outsider).get("/api/v1/barometer/").status_code == 403
    assert client_for(None).get("/api/v1/barometer/").status_code == 401


def test_expectations_are_scoped_to_the_managers_subtree(expectations, unit_member):
    north, south = expectations
    client = client_for(unit_member)

    listed = client.get("/api/v1/expectations/").json()["results"]

    assert [item["title"] for item in listed] == ["North"]
    assert client.get(f"/api/v1/expectations/{north.pk}/").json()["unit"] == "north"
    assert client.get(f"/api/v1/expectations/{south.pk}/").status_code == 404


def test_expectations_all_for_leaders_none_for_outsiders(expectations, outsider):
    listed = client_for(LeaderFactory()).get("/api/v1/expectations/").json()["results"]

    assert {item["title"] for item in listed} == {"North", "South"}
    assert client_for(outsider).get("/api/v1/expectations/").status_code == 403
    assert (
        client_for(outsider).get(f"/api/v1/expectations/{expectations[0].pk}/").status_code == 403
    )


def test_expectations_are_read_only(expectations, owner):
    response = client_for(owner).post("/api/v1/expectations/", {}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
