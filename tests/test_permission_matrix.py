"""Who may reach what: every page, admin view and API endpoint against a declared matrix.

The routes are not listed by hand: the test walks Django's URL resolver (the admin's routes
come from its registry through `admin.site.urls`), fills each path parameter with the key of
an existing object, and requests the route as each persona:

- anonymous: no session;
- respondent: a logged-in account with no role (an employee who answers pulse surveys);
- manager: a staff user who manages the North region (two stores);
- analyst, leader: members of the Analysts and Leadership groups with their permissions;
- superuser: the platform administrator.

Each answer is classed as `ok` (the view handled the request: 2xx, 3xx elsewhere than a
login page, or a 400/405/409 about the input), `login` (sent to a login page), `deny` (401 or
403) or `hide` (404). A 5xx fails at once. The classes must equal `MATRIX`, whose first
matching pattern decides; a route no pattern matches fails, so a new page or endpoint cannot
ship without someone declaring who may use it. Every write runs inside a rolled-back
savepoint, so one persona's request never changes what the next one sees.
"""

import fnmatch
import os
from collections.abc import Iterator
from datetime import date

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from common.models import AuditEvent
from distribution.models import FollowUpCase
from linkage.models import (
    Barometer,
    BarometerProposal,
    BarometerVote,
    ChainLink,
    LinkageRun,
    OutcomeImport,
    PerformanceExpectation,
)
from surveys.models import Question, WebhookDelivery, WebhookSubscription
from tests.factories import (
    AnalystFactory,
    InitiativeFactory,
    InvitationFactory,
    MetricFactory,
    MetricValueFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "respondent", "manager", "analyst", "leader", "superuser")
OUTCOMES = {"ok", "login", "deny", "hide"}

#            anonymous respondent manager analyst leader superuser
EVERYONE = "ok        ok         ok      ok      ok     ok"
ANY_ROLE = "login     login      ok      ok      ok     ok"  # staff with a role; scoped
READERS = "login     login      deny    ok      ok     ok"  # analysts, leaders, superuser
ANALYSTS = "login     login      deny    ok      deny   ok"
LEADERS = "login     login      deny    deny    ok     ok"
VOTERS = "login     login      deny    deny    ok     deny"  # superusers do not vote
SUPERUSER = "login     login      deny    deny    deny   ok"
NOBODY = "login     login      deny    deny    deny   deny"  # written by services only
PAGES = "login     deny       ok      ok      ok     ok"  # the workspace; managers scoped
PAGES_EVIDENCE = "login     deny       deny    ok      ok     ok"
API_ROLE = "deny      deny       ok      ok      ok     ok"
API_EVIDENCE = "deny      deny       deny    ok      ok     ok"

NO_ROWS = [
    "axes_accessattempt",
    "common_branding",
    "axes_accesslog",
    "axes_accessfailurelog",
    "comments_theme",
    "comments_themerun",
    "distribution_contact",
    "distribution_reminderschedule",
    "distribution_waveschedule",
    "distribution_sendlog",
    "django_celery_beat_clockedschedule",
    "django_celery_beat_crontabschedule",
    "django_celery_beat_intervalschedule",
    "django_celery_beat_solarschedule",
    "django_celery_beat_periodictask",
]


def _admin_model(model: str, view: str, add: str, delete: str) -> list[tuple[str, str]]:
    """A registered model's five admin views: list, change form and history need `view`."""
    return [
        (f"GET admin:{model}_changelist", view),
        (f"GET admin:{model}_change", view),
        (f"GET admin:{model}_history", view),
        (f"GET admin:{model}_add", add),
        (f"GET admin:{model}_delete", delete),
    ]


# ("METHOD route-name" fnmatch pattern, outcome per persona in ROLES order); first match wins.
MATRIX: list[tuple[str, str]] = [
    # Respondents answer without an account; the API documents itself.
    ("GET surveys:*", EVERYONE),
    ("POST submission-list", EVERYONE),
    ("GET schema", EVERYONE),
    ("GET api-docs", EVERYONE),
    # The company's colours and logo for respondent pages (no logo uploaded here: 404).
    ("GET brand-css", EVERYONE),
    ("GET brand-logo", "hide hide hide hide hide hide"),
    ("GET distribution:unsubscribe", EVERYONE),  # the signed link in an invitation e-mail
    ("GET workspace:login", EVERYONE),
    ("GET workspace:logout", EVERYONE),
    # The workspace: anyone with a role, each reading their own units; linkage for analysts
    # and leaders. A superuser's chooser sends everyone else to their home.
    ("GET workspace:choose", "login ok ok ok ok ok"),
    ("GET workspace:linkage*", PAGES_EVIDENCE),
    ("GET workspace:export_pairs", PAGES_EVIDENCE),
    ("GET workspace:*", PAGES),
    ("GET comments:*", PAGES),
    ("GET distribution:*", PAGES),
    # Leaders' pages: a manager reads their own units; others' units answer 404 like unknown ones.
    ("GET linkage:dashboard", "login deny ok ok ok ok"),
    ("GET linkage:*", "login hide ok ok ok ok"),
    # The API: a role for everything; the evidence side (runs, outcomes) not for managers.
    ("* linkage-run-*", API_EVIDENCE),
    ("POST outcome-list", API_EVIDENCE),
    ("* api-root", API_ROLE),
    ("* survey-*", API_ROLE),  # managers: customer surveys of their units only
    ("* unit-*", API_ROLE),
    ("* metric-*", API_ROLE),
    ("* expectation-*", API_ROLE),
    ("* barometer-list", API_ROLE),
    ("* comment-*", API_ROLE),
    # The admin site: staff log in; what a role sees there is below.
    ("* admin:login", EVERYONE),
    ("GET admin:logout", EVERYONE),  # 405: logging out is a POST
    ("POST admin:logout", "ok ok login login login login"),  # staff back to the login page
    ("* admin:index", ANY_ROLE),
    ("* admin:app_list", ANY_ROLE),
    ("* admin:jsi18n", ANY_ROLE),
    ("* admin:password_change*", ANY_ROLE),
    ("GET admin:autocomplete", NOBODY),  # without its query parameters
    ("POST admin:autocomplete", ANY_ROLE),
    ("* admin:view_on_site", "login login hide hide hide hide"),
    # Action views refuse GET alike (405) and check the role on POST.
    ("GET admin:linkage_vote", ANY_ROLE),
    ("POST admin:linkage_vote", VOTERS),
    ("GET admin:linkage_withdraw", ANY_ROLE),
    ("POST admin:linkage_withdraw", VOTERS),  # the proposer only
    ("GET admin:linkage_initiative_move_back", ANY_ROLE),
    ("POST admin:linkage_initiative_move_back", READERS),
    ("* admin:linkage_outcomeimport_upload", ANALYSTS),
    ("GET admin:surveys_metric_sync", ANY_ROLE),
    ("POST admin:surveys_metric_sync", ANALYSTS),
    ("* admin:surveys_survey_from_template", SUPERUSER),
    ("* admin:surveys_survey_invitations", SUPERUSER),
    ("* admin:auth_user_password_change", SUPERUSER),
    ("* admin:distribution_contact_upload", SUPERUSER),
    ("* admin:distribution_contact_invite", SUPERUSER),
    # Models without a row in this fixture: history of a missing object redirects to the
    # admin index before any permission check (and shows nothing).
    *[(f"GET admin:{model}_history", ANY_ROLE) for model in NO_ROWS],
    ("GET admin:common_branding_history", ANY_ROLE),  # no branding row here either
    *_admin_model("auth_group", SUPERUSER, SUPERUSER, SUPERUSER),
    *_admin_model("auth_user", SUPERUSER, SUPERUSER, SUPERUSER),
    *_admin_model("authtoken_tokenproxy", SUPERUSER, SUPERUSER, SUPERUSER),
    *_admin_model("axes_accessattempt", SUPERUSER, NOBODY, SUPERUSER),
    *_admin_model("axes_accesslog", SUPERUSER, NOBODY, SUPERUSER),
    *_admin_model("axes_accessfailurelog", SUPERUSER, NOBODY, SUPERUSER),
    *_admin_model("common_auditevent", READERS, NOBODY, NOBODY),
    *_admin_model("common_branding", SUPERUSER, SUPERUSER, NOBODY),
    *_admin_model("linkage_barometer", READERS, NOBODY, NOBODY),
    *_admin_model("linkage_barometerproposal", READERS, VOTERS, NOBODY),
    *_admin_model("linkage_barometervote", READERS, NOBODY, NOBODY),
    *_admin_model("linkage_chainlink", READERS, NOBODY, NOBODY),
    *_admin_model("linkage_initiative", READERS, READERS, SUPERUSER),
    *_admin_model("linkage_linkagerun", READERS, READERS, NOBODY),
    *_admin_model("linkage_outcomeimport", READERS, NOBODY, SUPERUSER),
    *_admin_model("linkage_performanceexpectation", READERS, LEADERS, LEADERS),
    *_admin_model("surveys_invitation", SUPERUSER, NOBODY, NOBODY),
    *_admin_model("surveys_metric", READERS, ANALYSTS, SUPERUSER),
    *_admin_model("surveys_metricvalue", ANY_ROLE, NOBODY, NOBODY),
    *_admin_model("surveys_orgunit", READERS, SUPERUSER, SUPERUSER),
    *_admin_model("surveys_question", READERS, SUPERUSER, SUPERUSER),
    *_admin_model("surveys_response", SUPERUSER, NOBODY, NOBODY),
    *_admin_model("surveys_survey", READERS, SUPERUSER, SUPERUSER),
    *_admin_model("surveys_webhookdelivery", SUPERUSER, NOBODY, SUPERUSER),
    *_admin_model("surveys_webhooksubscription", SUPERUSER, SUPERUSER, SUPERUSER),
    *_admin_model("comments_theme", READERS, NOBODY, NOBODY),  # themes come from runs
    *_admin_model("comments_themerun", READERS, READERS, NOBODY),
    *_admin_model("distribution_contact", SUPERUSER, SUPERUSER, SUPERUSER),
    *_admin_model("distribution_followupcase", SUPERUSER, NOBODY, SUPERUSER),
    *_admin_model("distribution_reminderschedule", SUPERUSER, SUPERUSER, SUPERUSER),
    *_admin_model("distribution_waveschedule", SUPERUSER, SUPERUSER, SUPERUSER),
    *_admin_model("distribution_sendlog", SUPERUSER, NOBODY, SUPERUSER),
    *[
        entry
        for schedule in ("clocked", "crontab", "interval", "solar")
        for entry in _admin_model(f"django_celery_beat_{schedule}schedule", *[SUPERUSER] * 3)
    ],
    *_admin_model("django_celery_beat_periodictask", SUPERUSER, SUPERUSER, SUPERUSER),
]


def _walk(
    patterns=None, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, URLPattern]]:
    """(route, namespaced name, pattern) of every named route; format-suffix twins dropped
    (they reach the same view with the same permissions)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _walk(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            if "format" in pattern.pattern.regex.groupindex:
                continue
            yield route, namespace + pattern.name, pattern


def _methods(route: str, pattern: URLPattern) -> list[str]:
    """GET for pages and admin views, POST too for the admin's own action views; an API
    route's every method (DRF checks permissions for each)."""
    callback = pattern.callback
    if route.startswith("api/v1/"):
        actions = getattr(callback, "actions", None)
        if actions:
            return sorted(actions)
        view_class = getattr(callback, "cls", None) or callback.view_class
        return sorted(
            m for m in view_class.http_method_names if hasattr(view_class, m) and m != "options"
        )
    if route.startswith("admin/") and not pattern.name.endswith(
        ("_changelist", "_add", "_change", "_delete", "_history")
    ):
        return ["get", "post"]
    return ["get"]


ROUTES = [
    (f"{method.upper()} {name}", route, pattern, method)
    for route, name, pattern in _walk()
    for method in _methods(route, pattern)
]


@pytest.fixture
def personas(org_tree, unit_member, leader) -> dict[str, object]:
    return {
        "anonymous": None,
        "respondent": UserFactory(username="respondent"),
        "manager": unit_member,
        "analyst": AnalystFactory(username="analyst", is_staff=True),
        "leader": leader,
        "superuser": UserFactory(username="root", is_staff=True, is_superuser=True),
    }


@pytest.fixture
def objects(org_tree, personas) -> dict[str, object]:
    """One existing object behind every path parameter, inside the manager's region."""
    store = org_tree["stores"][0]
    survey = SurveyFactory(slug="visits", root_unit=org_tree["company"])
    question = QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    invitation = InvitationFactory(survey=survey, unit=store)
    response = ResponseFactory(survey=survey, unit=store)
    metric = MetricFactory(key="customer.nps")
    metric_value = MetricValueFactory(metric=metric, unit=store)
    run = LinkageRun.objects.create(
        first_period="2026-01", last_period="2026-02", metric_keys=["customer.nps"]
    )
    expectation = PerformanceExpectation.objects.create(
        title="NPS up",
        metric=metric,
        unit=org_tree["north"],
        baseline_period="2026-01",
        target_kind="absolute",
        target_change=5,
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        owner=personas["leader"],
    )
    found = [
        org_tree["company"],
        survey,
        question,
        invitation,
        response,
        metric,
        metric_value,
        run,
        expectation,
        InitiativeFactory(),
        WebhookSubscription.objects.create(survey=survey, url="https://hooks.example/cx"),
        AuditEvent.objects.create(action="test", subject="matrix"),
        ChainLink.objects.create(from_metric=metric, to_metric=MetricFactory(key="customer.csat")),
        Token.objects.create(user=personas["superuser"]),
        personas["leader"].groups.first(),
        personas["respondent"],
    ]
    found += _leadership_objects(metric, personas["leader"])
    hook = next(obj for obj in found if isinstance(obj, WebhookSubscription))
    found.append(
        WebhookDelivery.objects.create(subscription=hook, event="score.changed", payload={})
    )
    found.append(OutcomeImport.objects.create(file_name="revenue.csv", status="done"))
    case = FollowUpCase.objects.create(
        response=response, survey=survey, unit=store, reason="NPS 3", due_at=timezone.now()
    )
    found.append(case)
    by_model = {type(obj)._meta.label_lower: obj for obj in found}
    # DRF's token admin names a token by its user's key.
    by_model["authtoken.tokenproxy"] = by_model["authtoken.token"].user
    return {
        "by_model": by_model,
        "survey": survey,
        "store": store,
        "run": run,
        "response": response,
        "case": case,
        "expectation": expectation,
        "metric": metric,
        "token": invitation.token,
    }


# Admin views named by their action rather than by their model.
ADMIN_VIEW_MODELS = {
    "admin:linkage_vote": "admin:linkage_barometerproposal_vote",
    "admin:linkage_withdraw": "admin:linkage_barometerproposal_withdraw",
}

# Which object a route's <pk> names (the rest name performance expectations).
_PK_OWNERS = {
    "linkage-run-detail": "run",
    "linkage-run-results": "run",
    "workspace:linkage": "run",
    "workspace:export_pairs": "run",
    "workspace:response": "response",
    "distribution:case": "case",
}


def _leadership_objects(metric, leader) -> list[object]:
    """An open proposal with a vote (the vote and withdraw views act on it) and a barometer
    agreed earlier."""
    open_proposal = BarometerProposal.objects.create(
        metric=metric, rationale="Customers first", proposed_by=leader
    )
    vote = BarometerVote.objects.create(proposal=open_proposal, voter=leader, decision="approve")
    agreed = BarometerProposal.objects.create(
        metric=metric,
        rationale="Agreed",
        proposed_by=leader,
        status="agreed",
        decided_at=timezone.now(),
    )
    barometer = Barometer.objects.create(metric=metric, proposal=agreed, started_at=timezone.now())
    return [open_proposal, vote, barometer]


def _parameter(name: str, route_name: str, objects: dict) -> str:
    if name in ("object_id", "id"):  # admin:<app>_<model>_<view>: that model's object
        route_name = ADMIN_VIEW_MODELS.get(route_name, route_name)
        for label, obj in objects["by_model"].items():
            if route_name.startswith(f"admin:{label.replace('.', '_')}_"):
                return str(obj.pk)
        return "0"  # no object of that model: the admin answers with a redirect
    values = {
        "slug": objects["survey"].slug,
        "code": objects["store"].code,
        "key": objects["metric"].key,
        "token": objects["token"],
        "app_label": "surveys",
        "content_type_id": "0",
    }
    if name == "pk":
        return str(objects[_PK_OWNERS.get(route_name, "expectation")].pk)
    assert name in values, f"{route_name}: nothing to fill <{name}> with; teach _parameter"
    return str(values[name])


def _path(route_name: str, pattern: URLPattern, objects: dict) -> str:
    kwargs = {
        name: _parameter(name, route_name, objects) for name in pattern.pattern.regex.groupindex
    }
    return reverse(route_name, kwargs=kwargs)


def _outcome(response) -> str:
    status = response.status_code
    assert status < 500, f"{status} {response.content[:300]!r}"
    if status in (301, 302) and "login" in response.get("Location", ""):
        return "login"
    return {401: "deny", 403: "deny", 404: "hide"}.get(status, "ok")


def _observe(client: Client, method: str, path: str) -> str:
    with transaction.atomic():
        cache.clear()  # throttles and lock-outs count in the cache
        if method in ("get", "head", "delete", "options"):
            response = getattr(client, method)(path)
        else:
            response = getattr(client, method)(path, {}, content_type="application/json")
        transaction.set_rollback(True)
    return _outcome(response)


def _expected(key: str) -> tuple[str, ...] | None:
    for pattern, outcomes in MATRIX:
        if fnmatch.fnmatchcase(key, pattern):
            return tuple(outcomes.split())
    return None


@pytest.mark.parametrize(
    ("key", "pattern", "method"),
    [pytest.param(key, pattern, method, id=key) for key, _, pattern, method in ROUTES],
)
def test_route_answers_each_persona_as_declared(key, pattern, method, personas, objects):
    route_name = key.split(" ", 1)[1]
    path = _path(route_name, pattern, objects)
    observed = []
    for role in ROLES:
        client = Client()
        if personas[role] is not None:
            client.force_login(personas[role])
        observed.append(_observe(client, method, path))
    if os.environ.get("PERMISSION_MATRIX_PRINT"):
        print(f"MATRIX {key:<55} {' '.join(observed)}")
    expected = _expected(key)
    assert expected is not None, f"declare {key} in MATRIX ({' '.join(observed)} today)"
    assert tuple(observed) == expected, f"{path}: {dict(zip(ROLES, observed, strict=True))}"


def test_matrix_declares_only_known_outcomes_and_routes():
    keys = [key for key, *_ in ROUTES]
    for pattern, outcomes in MATRIX:
        assert set(outcomes.split()) <= OUTCOMES and len(outcomes.split()) == len(ROLES), pattern
        assert any(fnmatch.fnmatchcase(key, pattern) for key in keys), f"{pattern} matches nothing"
