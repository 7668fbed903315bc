"""One visibility policy: every reader of unit-scoped data shows each persona the same units.

The expected units of each persona are declared once (`EXPECTED`); every reader (admin, API,
export, dashboard pages, selector, linkage review panel) is asked which units it shows that
persona, and must answer exactly that set. A reader that refuses the persona counts as
showing no unit, which is only right for personas declared to read nothing.
"""

import csv
import io
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from linkage.models import LinkageRun
from linkage.services.runs import run_panel
from surveys.models import Metric, OrgUnit
from surveys.selectors import metric_values
from surveys.visibility import readable_units
from tests.factories import MetricFactory, MetricValueFactory

pytestmark = pytest.mark.django_db

EVERY_UNIT = frozenset({"acme", "north", "south", "n1", "n2", "s1", "s2"})
NORTH_SUBTREE = frozenset({"north", "n1", "n2"})
NO_UNIT: frozenset[str] = frozenset()

# The policy, declared: persona fixture → the unit codes it may read.
EXPECTED = {
    "leader": EVERY_UNIT,
    "analyst": EVERY_UNIT,
    "owner": EVERY_UNIT,  # an active superuser
    "unit_member": NORTH_SUBTREE,  # the North region's manager
    "inactive_leader": NO_UNIT,
    "inactive_manager": NO_UNIT,
    "staff_outsider": NO_UNIT,
    "outsider": NO_UNIT,
    "anonymous": NO_UNIT,
}
STORES = frozenset({"n1", "n2", "s1", "s2"})
KEYS = ("employee.enps", "customer.nps")
PERIOD = "2026-01"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Some personas get a password; the production hasher would cost most of the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def scores(org_tree):
    """Both metrics for every unit in one month; one cell is suppressed (still listed)."""
    enps = MetricFactory(key=KEYS[0], chain_stage=Metric.ChainStage.EMPLOYEE_LOYALTY)
    nps = MetricFactory(key=KEYS[1], chain_stage=Metric.ChainStage.CUSTOMER_LOYALTY)
    for index, unit in enumerate(OrgUnit.objects.order_by("path")):
        MetricValueFactory(metric=nps, unit=unit, period=PERIOD, value=20.0 + index)
        if unit.code == "s2":
            MetricValueFactory(metric=enps, unit=unit, period=PERIOD, value=None, suppressed=True)
        else:
            MetricValueFactory(metric=enps, unit=unit, period=PERIOD, value=10.0 + index)


@pytest.fixture
def persona(request, scores):
    name = request.param
    return AnonymousUser() if name == "anonymous" else request.getfixturevalue(name)


def _web_client(user) -> Client:
    client = Client()
    if user.is_authenticated:
        client.force_login(user)  # an inactive user's session comes back anonymous
    return client


def _api_client(user) -> APIClient:
    client = APIClient()
    if user.is_authenticated:
        client.force_authenticate(user)  # the user object as is, inactive ones included
    return client


def _refused(status_code: int) -> bool:
    # 302: the login page (admin, dashboards); 401/403: the API and logged-in pages; 404: a
    # dashboard unit outside the reader's scope answers like an unknown one.
    return status_code in (302, 401, 403, 404)


# ------------------------------------------------------------------ readers


def admin_metric_values(user) -> set[str]:
    response = _web_client(user).get(reverse("admin:surveys_metricvalue_changelist"))
    if _refused(response.status_code):
        return set()
    assert response.status_code == 200
    return {row.unit.code for row in response.context_data["cl"].result_list}


def api_metric_values(user) -> set[str]:
    response = _api_client(user).get("/api/v1/metric-values/", {"page_size": 1000})
    if _refused(response.status_code):
        return set()
    assert response.status_code == 200
    return {row["unit"] for row in response.json()["results"]}


def api_units(user) -> set[str]:
    response = _api_client(user).get("/api/v1/units/", {"page_size": 1000})
    if _refused(response.status_code):
        return set()
    assert response.status_code == 200
    return {row["code"] for row in response.json()["results"]}


def metric_values_csv(user) -> set[str]:
    response = _api_client(user).get("/api/v1/metric-values/export.csv")
    if _refused(response.status_code):
        return set()
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return {row["unit"] for row in csv.DictReader(io.StringIO(text))}


def _pages_shown(user, url_for: Callable[[str], str]) -> set[str]:
    """Codes of the units whose page answers 200; the others must be refused, not missing."""
    client = _web_client(user)
    shown = set()
    for code in EVERY_UNIT:
        status_code = client.get(url_for(code)).status_code
        assert status_code == 200 or _refused(status_code), (code, status_code)
        if status_code == 200:
            shown.add(code)
    return shown


def dashboard(user) -> set[str]:
    return _pages_shown(user, lambda code: f"/dashboard/?unit={code}")


def scorecard(user) -> set[str]:
    return _pages_shown(user, lambda code: f"/dashboard/units/{code}/scorecard/")


def readings_json(user) -> set[str]:
    """Units whose readings come back with their metrics (every unit here has values)."""
    client = _web_client(user)
    shown = set()
    for code in EVERY_UNIT:
        response = client.get(f"/dashboard/units/{code}/readings.json")
        assert response.status_code == 200 or _refused(response.status_code)
        if response.status_code == 200:
            metrics = {reading["metric"] for reading in response.json()["metrics"]}
            assert metrics == set(KEYS), (code, metrics)
            shown.add(code)
    return shown


def selector(user) -> set[str]:
    return set(metric_values(reader=user).values_list("unit__code", flat=True))


def run_review_panel(user) -> set[str]:
    """The linkage review's scatter data; a store-level run only holds stores."""
    run = LinkageRun.objects.create(
        level=OrgUnit.Level.STORE, first_period=PERIOD, last_period=PERIOD, metric_keys=list(KEYS)
    )
    panel = run_panel(run, reader=user)
    return set(OrgUnit.objects.filter(pk__in=panel.unit_ids).values_list("code", flat=True))


READERS = {
    "admin metric values": (admin_metric_values, EVERY_UNIT),
    "API metric values": (api_metric_values, EVERY_UNIT),
    "API units": (api_units, EVERY_UNIT),
    "metric values CSV": (metric_values_csv, EVERY_UNIT),
    "dashboard": (dashboard, EVERY_UNIT),
    "scorecard": (scorecard, EVERY_UNIT),
    "readings JSON": (readings_json, EVERY_UNIT),
    "metric_values selector": (selector, EVERY_UNIT),
    "run review panel": (run_review_panel, STORES),
}


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("persona", list(EXPECTED), indirect=True)
def test_visibility_policy_every_reader_shows_the_declared_units(request, persona, reader):
    read, holds = READERS[reader]
    name = request.node.callspec.params["persona"]

    assert read(persona) == EXPECTED[name] & holds


@pytest.mark.parametrize("persona", list(EXPECTED), indirect=True)
def test_visibility_policy_readable_units_match_the_declared_table(request, persona):
    name = request.node.callspec.params["persona"]

    assert set(readable_units(persona).values_list("code", flat=True)) == EXPECTED[name]


def test_visibility_policy_leader_sees_suppressed_cells_masked_in_the_admin(client, leader, scores):
    client.force_login(leader)

    response = client.get(reverse("admin:surveys_metricvalue_changelist"), {"q": "s2"})

    assert response.status_code == 200
    assert b"hidden (below threshold)" in response.content
