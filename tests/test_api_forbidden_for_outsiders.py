"""Every API endpoint refuses a logged-in user without a role and an anonymous caller.

The endpoints are not listed by hand: the test walks Django's URL resolver for every route
under /api/ and every HTTP method its view allows, fills the path parameters with keys of
existing objects (so a refusal is not just "no such object"), and expects 401, 403 or 404
with an error body and no data. Only the endpoints declared in `PUBLIC` may answer. A new
endpoint without a permission (or with a path parameter nobody can fill) fails here.
"""

import json
from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from linkage.models import LinkageRun, PerformanceExpectation
from surveys.models import Question, Response
from tests.factories import MetricFactory, MetricValueFactory, QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db

API_PREFIX = "api/"
# The endpoints open to anyone, by route name and method; nothing else may answer 2xx.
PUBLIC = {
    ("submission-list", "post"),  # respondents submit without an account
    ("submission-list", "options"),
    ("schema", "get"),  # the OpenAPI schema and its documentation page
    ("schema", "head"),
    ("schema", "options"),
    ("api-docs", "get"),
    ("api-docs", "head"),
    ("api-docs", "options"),
}
REFUSALS = {
    401: {"not_authenticated", "authentication_failed"},
    403: {"permission_denied"},
    404: {"not_found"},
}


def _api_patterns(patterns=None, prefix: str = ""):
    """(route, URLPattern) of every route under /api/, nested includes walked."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_patterns(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith(API_PREFIX):
            yield route, pattern


def _view_class(callback):
    return getattr(callback, "cls", None) or callback.view_class


def allowed_methods(callback) -> list[str]:
    """The methods a route's view answers: a viewset route's actions, else the view's
    handlers; HEAD wherever GET is, and OPTIONS (DRF checks permissions for it too)."""
    actions = getattr(callback, "actions", None)
    if actions:
        methods = set(actions)
    else:
        view_class = _view_class(callback)
        methods = {name for name in view_class.http_method_names if hasattr(view_class, name)}
    if "get" in methods:
        methods.add("head")
    return sorted(methods | {"options"})


EVERY_ENDPOINT = [
    (route, pattern, method)
    for route, pattern in _api_patterns()
    for method in allowed_methods(pattern.callback)
]
ENDPOINTS = [
    pytest.param(pattern, method, id=f"{method.upper()} {route}")
    for route, pattern, method in EVERY_ENDPOINT
    if (pattern.name, method) not in PUBLIC
]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The personas get passwords; the production hasher would cost most of the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def objects(org_tree, leader):
    """One existing object behind every path parameter the API has."""
    survey = SurveyFactory(slug="visits", root_unit=org_tree["company"])
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    metric = MetricFactory(key="customer.nps")
    MetricValueFactory(metric=metric, unit=org_tree["stores"][0])
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
        owner=leader,
    )
    return {"slug": survey.slug, "code": "n1", "key": metric.key, "run": run, "exp": expectation}


def _parameter_value(view_class, name: str, objects: dict) -> str:
    by_view = {"LinkageRunViewSet": objects["run"].pk, "ExpectationViewSet": objects["exp"].pk}
    if name == "pk" and view_class.__name__ in by_view:
        return str(by_view[view_class.__name__])
    if name in ("slug", "code", "key"):
        return objects[name]
    if name == "format":  # a format the view renders (exports render csv/xlsx only)
        renderers = getattr(view_class, "renderer_classes", [JSONRenderer])
        return renderers[0].format
    raise AssertionError(f"{view_class.__name__}: no existing object to fill <{name}> with")


def _path(pattern: URLPattern, objects: dict) -> str:
    callback = pattern.callback
    view_class = _view_class(callback)
    renderers = getattr(callback, "initkwargs", {}).get("renderer_classes")
    if renderers:
        view_class = type(view_class.__name__, (view_class,), {"renderer_classes": renderers})
    kwargs = {
        name: _parameter_value(view_class, name, objects)
        for name in pattern.pattern.regex.groupindex
    }
    assert pattern.name, f"name the route {pattern.pattern} so it can be tested"
    path = reverse(pattern.name, kwargs=kwargs)
    assert resolve(path).func is callback, f"{path} does not reach {pattern.pattern}"
    return path


def _call(client: APIClient, method: str, path: str):
    if method in ("get", "head", "options", "delete"):
        return getattr(client, method)(path)
    return getattr(client, method)(path, {"responses": []}, format="json")


def _assert_refused(response, who: str) -> None:
    context = f"{who}: {response.status_code} {response.content[:300]!r}"
    assert response.status_code in REFUSALS, context
    if response.request["REQUEST_METHOD"] == "HEAD":
        assert not response.content, context
        return
    body = json.loads(response.content)
    assert set(body) == {"error"}, context  # the error shape, never data beside it
    assert body["error"]["code"] in REFUSALS[response.status_code], context


@pytest.mark.parametrize(("pattern", "method"), ENDPOINTS)
def test_api_endpoint_refuses_callers_without_a_role(
    pattern, method, objects, outsider, staff_outsider, inactive_leader
):
    path = _path(pattern, objects)
    for who in (outsider, staff_outsider, inactive_leader, AnonymousUser()):
        client = APIClient()
        if who.is_authenticated:
            client.force_authenticate(who)
        _assert_refused(_call(client, method, path), str(who) or "anonymous")


def test_api_anonymous_caller_is_told_how_to_authenticate(objects):
    response = APIClient().get("/api/v1/metrics/customer.nps/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_api_public_endpoints_are_declared_by_routes_that_exist():
    routes = {(pattern.name, method) for _, pattern, method in EVERY_ENDPOINT}
    assert not PUBLIC - routes


def test_api_public_submission_is_open_to_anonymous_callers(objects):
    cache.clear()  # the public throttle counts live in the cache
    body = {"survey": "visits", "unit": "n1", "answers": {"nps": 9}}

    response = APIClient().post("/api/v1/submissions/", body, format="json")

    assert response.status_code == 201
    assert Response.objects.count() == 1
