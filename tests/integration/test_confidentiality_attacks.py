"""The attacks of issue 10, performed with normal access against PostgreSQL, Redis and a real
Celery worker: padding a hidden store, differencing readers over time, and metadata.

The pulse has threshold k = 5. Stores: n1 6, n2 6, s1 7 respondents and s2 2 — the hidden
store whose answers (two detractors) the attacker wants.
"""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from surveys.aggregation import compute_group_value
from surveys.models import (
    DirtyScoreCell,
    Invitation,
    Metric,
    OrgUnit,
    Response,
    ResultRelease,
    Survey,
    WebhookDelivery,
)
from surveys.selectors import metric_value_panel
from surveys.services import close_survey, issue_invitations, open_survey, submit_response
from surveys.visibility import SYSTEM
from tests.factories import LeaderFactory, QuestionFactory, SurveyFactory, UserFactory
from tests.integration.services import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

K = 5
TEAM_SIZES = {"n1": 6, "n2": 6, "s1": 7}


@pytest.fixture
def pulse(org_tree):
    survey = SurveyFactory(employee=True, slug="pulse", anonymity_threshold=K)
    QuestionFactory(survey=survey, code="enps", metric_key="employee.enps")
    return survey


def stores(org_tree) -> dict[str, OrgUnit]:
    return {store.code: store for store in org_tree["stores"]}


def answer_by_invitation(survey: Survey, unit: OrgUnit, scores: list[int]) -> None:
    for invitation, score in zip(
        issue_invitations(survey=survey, unit=unit, count=len(scores)), scores, strict=True
    ):
        submit_response(survey=survey, answers={"enps": score}, token=invitation.token)


def settled() -> bool:
    return not DirtyScoreCell.objects.exists()


def seed_wave(pulse, org_tree) -> None:
    units = stores(org_tree)
    for code, size in TEAM_SIZES.items():
        answer_by_invitation(pulse, units[code], [9] * size)
    answer_by_invitation(pulse, units["s2"], [0, 0])  # the hidden store's two detractors
    assert wait_for(settled), "the worker did not settle the scores"


def close_and_wait(pulse) -> None:
    releases = ResultRelease.objects.count()
    close_survey(survey=pulse)
    # The worker runs the release queued on close; a release that publishes nothing adds no
    # row, so give it time either way.
    wait_for(lambda: ResultRelease.objects.count() > releases, timeout=10)
    assert wait_for(settled)


def read_everything(org_tree, leader, manager) -> dict:
    """Every reader of employee results, as leaders, managers and the platform see them."""
    api = APIClient()
    api.force_authenticate(leader)
    listed = api.get("/api/v1/metric-values/?metric=employee.enps").json()
    exported = api.get("/api/v1/metric-values/export/?metric=employee.enps&format=csv")
    survey = api.get("/api/v1/surveys/pulse/").json()
    browser = Client()
    browser.force_login(leader)
    readings = {
        unit.code: browser.get(f"/dashboard/units/{unit.code}/readings.json").json()
        for unit in OrgUnit.objects.all()
    }
    managers_view = APIClient()
    managers_view.force_authenticate(manager)
    metric = Metric.objects.filter(key="employee.enps").first()
    groups = {}
    if metric is not None:
        for unit in OrgUnit.objects.all():
            group = compute_group_value(metric=metric, unit=unit, periods=[current()])
            groups[unit.code] = (group.value, group.n, group.suppressed)
    panel = metric_value_panel(
        metric_keys=["employee.enps"], level="store", periods=[current()], reader=SYSTEM
    )
    return {
        "api": [
            (row["unit"], row["value"], row["n"], row["suppressed"]) for row in listed["results"]
        ],
        "export": b"".join(exported.streaming_content).decode(),
        "response_count": survey["response_count"],
        "readings": readings,
        "manager": managers_view.get("/api/v1/metric-values/?metric=employee.enps").json(),
        "groups": groups,
        "panel": (panel.unit_ids, str(panel.values.tolist()), panel.n.tolist()),
        "webhooks": list(WebhookDelivery.objects.values_list("payload", flat=True)),
    }


def current() -> str:
    return Survey(period_granularity="month").period_for(timezone.now())


def visible_n(reading: dict) -> dict[str, int]:
    return {unit: n for unit, _, n, hidden in reading["api"] if not hidden}


def assert_no_small_difference(*readings: dict) -> None:
    """No visible cell, in any reading, is a subset of another visible one by 1..k−1 people
    (the tree makes every store ⊂ region ⊂ company; one cell grows between readings)."""
    parent_of = {"n1": "north", "n2": "north", "s1": "south", "s2": "south"}
    parent_of |= {"north": "acme", "south": "acme"}

    def ancestors(code: str) -> list[str]:
        chain = []
        while code in parent_of:
            code = parent_of[code]
            chain.append(code)
        return chain

    for first in readings:
        for second in readings:
            for unit, n in visible_n(first).items():
                for other, m in visible_n(second).items():
                    nested = other == unit or unit in ancestors(other)
                    if nested and n >= m:
                        assert n - m == 0 or n - m >= K, (unit, n, other, m)


def test_padding_a_hidden_store_is_refused_and_its_answers_stay_hidden(
    pulse, org_tree, worker, unit_member
):
    seed_wave(pulse, org_tree)
    s2 = stores(org_tree)["s2"]
    public = Client().post(f"/s/pulse/?u={s2.code}", {"q_enps": "10"})
    assert public.status_code == 403  # invitation only
    api_public = APIClient().post(
        "/api/v1/submissions/",
        {"survey": "pulse", "unit": "s2", "answers": {"enps": 10}},
        format="json",
    )
    assert api_public.status_code == 403
    south_manager = UserFactory(username="south-manager", is_staff=True)
    south_manager.managed_units.add(org_tree["south"])
    api = APIClient()
    api.force_authenticate(south_manager)
    backdated = {
        "responses": [
            {"unit": "s2", "answers": {"enps": 10}, "submitted_at": "2026-01-10T09:00:00Z"}
        ]
        * 3
    }
    assert (
        api.post("/api/v1/surveys/pulse/responses/bulk/", backdated, format="json").status_code
        == 403
    )
    tokens = api.post(
        "/api/v1/surveys/pulse/invitations/", {"unit": "s2", "count": 3}, format="json"
    )
    assert tokens.status_code == 403
    assert Response.objects.filter(unit=s2).count() == 2  # no padding got in
    close_and_wait(pulse)
    leader = LeaderFactory()
    reading = read_everything(org_tree, leader, unit_member)
    hidden = {unit for unit, _, _, suppressed in reading["api"] if suppressed}
    assert "s2" in hidden and "s1" in hidden  # s1 hidden too: south − s1 would be s2
    assert_no_small_difference(reading)


def test_no_reader_changes_before_release_and_no_release_isolates_fewer_than_k(
    pulse, org_tree, worker, unit_member
):
    leader = LeaderFactory()
    seed_wave(pulse, org_tree)
    before_release = read_everything(org_tree, leader, unit_member)
    assert before_release["api"] == [] and before_release["groups"]["acme"][1] == 0
    close_and_wait(pulse)
    released = read_everything(org_tree, leader, unit_member)
    assert visible_n(released)["acme"] == sum(TEAM_SIZES.values()) + 2

    open_survey(survey=pulse)  # re-opened: one late answer at the hidden store
    answer_by_invitation(pulse, stores(org_tree)["s2"], [10])
    assert wait_for(settled)
    after_one = read_everything(org_tree, leader, unit_member)
    assert after_one == released  # nothing readable moved: not the API, export, readings …
    close_and_wait(pulse)
    assert read_everything(org_tree, leader, unit_member) == released  # 1 < k: still waits

    open_survey(survey=pulse)
    answer_by_invitation(pulse, stores(org_tree)["s2"], [10] * (K - 1))
    close_and_wait(pulse)
    grown = read_everything(org_tree, leader, unit_member)
    assert visible_n(grown)["acme"] - visible_n(released)["acme"] == K
    assert_no_small_difference(released, grown)


def test_manager_cannot_obtain_employee_tokens_or_used_times(pulse, org_tree, worker):
    manager = UserFactory(username="north-manager", is_staff=True)
    manager.managed_units.add(org_tree["north"])
    manager.user_permissions.add(Permission.objects.get(codename="view_invitation"))
    [invitation] = issue_invitations(survey=pulse, unit=stores(org_tree)["n1"], count=1)
    submit_response(survey=pulse, answers={"enps": 3}, token=invitation.token)
    invitation.refresh_from_db()
    assert invitation.used and invitation.used_at is None  # never stored, so never shown
    api = APIClient()
    api.force_authenticate(manager)
    issued = api.post(
        "/api/v1/surveys/pulse/invitations/", {"unit": "n1", "count": 1}, format="json"
    )
    assert issued.status_code == 403
    assert api.get("/api/v1/surveys/pulse/responses/export/?format=csv").status_code == 403
    admin = Client()
    admin.force_login(manager)
    listing = admin.get("/admin/surveys/invitation/")
    assert listing.status_code == 200 and invitation.token[:8] not in listing.text
    assert admin.get(f"/admin/surveys/invitation/{invitation.pk}/change/").status_code in (302, 404)
    assert Invitation.objects.filter(survey=pulse).count() == 1


def test_response_count_and_totals_leave_no_hidden_remainder(pulse, org_tree, worker, unit_member):
    seed_wave(pulse, org_tree)
    leader = LeaderFactory()
    assert read_everything(org_tree, leader, unit_member)["response_count"] is None
    close_and_wait(pulse)
    reading = read_everything(org_tree, leader, unit_member)
    assert reading["response_count"] is None
    shown = visible_n(reading)
    children = {"acme": ["north", "south"], "north": ["n1", "n2"], "south": ["s1", "s2"]}
    for parent, kids in children.items():
        if parent in shown:
            remainder = shown[parent] - sum(shown.get(kid, 0) for kid in kids)
            assert remainder == 0 or remainder >= K, (parent, remainder)
    rows = list(csv.reader(io.StringIO(reading["export"])))
    assert all(row[8] == "" for row in rows[1:] if row[9] == "True")  # hidden n stays empty
