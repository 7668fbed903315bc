"""Property-based run of schemathesis against the OpenAPI schema served by the app itself.

Every operation gets a few generated requests (deterministic, bounded) as a staff superuser
with a token: no response may be a server error, and every response must match the
schema (status code documented, body of the documented shape).
"""

import re

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from surveys import periods
from surveys.models import Question
from tests.factories import (
    MetricFactory,
    MetricValueFactory,
    QuestionFactory,
    SurveyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
EXAMPLES_PER_OPERATION = 10


@pytest.fixture
def keep_test_connection():
    """Requests go straight to the WSGI app, not through Django's test client, so keep the
    app from closing the test's database connection after each one (as the client does)."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


# Loaded at import from the app itself (generating the schema needs no database); the lazy
# fixture loader of schemathesis does not work with this pytest version.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def staff_token(org_tree, keep_test_connection) -> str:
    """A staff superuser's token, and a little data so lists are not all empty."""
    cache.clear()  # public-submission throttle counts
    survey = SurveyFactory(slug="schema-survey")
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    metric = MetricFactory(key="customer.nps")
    MetricValueFactory(metric=metric, unit=org_tree["stores"][0], period="2026-01")
    MetricValueFactory(
        metric=metric,
        unit=org_tree["stores"][1],
        period="2026-01",
        value=None,
        n=2,
        suppressed=True,
    )
    user = UserFactory(username="schema-owner", is_staff=True, is_superuser=True)
    return Token.objects.create(user=user).key


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_matches_its_schema_without_server_errors(case, staff_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {staff_token}"},
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )


def test_schema_is_valid_openapi_3_and_documents_the_error_shape(client):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    document = SchemaGenerator().get_schema(request=None, public=True)

    validate_schema(document)  # raises on an invalid document
    assert document["openapi"].startswith("3.")
    assert "Error" in document["components"]["schemas"]
    assert client.get("/api/docs/").status_code == 200


def _parameter_schemas(document: dict, path: str, method: str) -> dict[str, dict]:
    operation = document["paths"][path][method]
    return {parameter["name"]: parameter["schema"] for parameter in operation["parameters"]}


def test_schema_documents_the_period_and_idempotency_key_formats_it_enforces():
    from drf_spectacular.generators import SchemaGenerator

    document = SchemaGenerator().get_schema(request=None, public=True)
    query = _parameter_schemas(document, "/api/v1/metric-values/", "get")
    headers = _parameter_schemas(document, "/api/v1/linkage-runs/", "post")
    run_input = document["components"]["schemas"]["LinkageRunInput"]["properties"]

    period = re.compile(query["period_from"]["pattern"])
    assert query["period_to"]["pattern"] == run_input["first_period"]["pattern"] == period.pattern
    for label in ("2026-03", "2026-12", "2026-Q1", "2026-13", "2026-00", "2026-Q5", "2026-3", "0"):
        try:
            periods.granularity_of(label)
            valid = True
        except periods.PeriodError:
            valid = False
        assert bool(period.match(label)) is valid, label
    key = re.compile(headers["Idempotency-Key"]["pattern"])
    assert key.match("3f0c9a52-5d0e-4b7e-9a53-1c1f7f6f2c11")
    assert not key.match("with space") and not key.match("x" * 256) and not key.match("")
