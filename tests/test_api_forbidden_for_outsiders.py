"""Every API endpoint refuses a logged-in user without a role (403) and an anonymous caller
(401) before looking anything up, so neither learns whether an object exists."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from surveys.models import Response
from tests.factories import SurveyFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/v1/surveys/"),
    ("get", "/api/v1/surveys/visits/"),
    ("post", "/api/v1/surveys/visits/invitations/"),
    ("post", "/api/v1/surveys/visits/responses/bulk/"),
    ("get", "/api/v1/surveys/visits/responses/export/"),
    ("get", "/api/v1/surveys/visits/responses/export.xlsx"),
    ("get", "/api/v1/units/"),
    ("get", "/api/v1/units/n1/"),
    ("get", "/api/v1/metrics/"),
    ("get", "/api/v1/metric-values/"),
    ("get", "/api/v1/metric-values/export.csv"),
    ("get", "/api/v1/linkage-runs/"),
    ("post", "/api/v1/linkage-runs/"),
    ("get", "/api/v1/linkage-runs/1/"),
    ("get", "/api/v1/linkage-runs/1/results/"),
    ("post", "/api/v1/outcomes/"),
    ("get", "/api/v1/barometer/"),
    ("get", "/api/v1/expectations/"),
    ("get", "/api/v1/expectations/1/"),
]


@pytest.fixture
def survey(org_tree):
    return SurveyFactory(slug="visits")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_endpoint_forbids_outsiders(survey, outsider, method, path):
    client = APIClient()
    client.force_authenticate(outsider)

    response = getattr(client, method)(path, {"responses": []}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_endpoint_needs_a_login(survey, method, path):
    response = getattr(APIClient(), method)(path, {"responses": []}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_public_submission_is_the_one_open_endpoint(survey):
    cache.clear()  # the public throttle counts live in the cache
    response = APIClient().post(
        "/api/v1/submissions/", {"survey": "visits", "unit": "n1", "answers": {}}, format="json"
    )

    assert response.status_code == 201
    assert Response.objects.count() == 1
