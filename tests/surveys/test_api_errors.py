"""The one error shape: bad input is a 4xx with a clear message, and scope errors do not
reveal whether another unit's object exists."""

import json
from datetime import date
from unittest import mock

import pytest
from django.db import OperationalError
from rest_framework.test import APIClient

from cxsurvey.api_errors import server_error
from linkage.models import PerformanceExpectation
from surveys.models import Answer, Question
from tests.factories import LeaderFactory, MetricFactory, QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def assert_error_shape(response, status_code: int) -> dict:
    assert response.status_code == status_code, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["status"] == status_code
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    return error


def test_objects_of_other_units_look_exactly_like_missing_ones(org_tree, unit_member):
    SurveyFactory(slug="south-only", root_unit=org_tree["south"])
    client = client_for(unit_member)

    hidden = client.get("/api/v1/surveys/south-only/")
    missing = client.get("/api/v1/surveys/never-existed/")

    assert_error_shape(hidden, 404)
    assert hidden.json() == missing.json()
    assert client.get("/api/v1/units/s1/").json() == client.get("/api/v1/units/zz/").json()


def test_expectation_of_another_unit_is_not_found(org_tree, unit_member):
    south = PerformanceExpectation.objects.create(
        title="South",
        unit=org_tree["south"],
        metric=MetricFactory(),
        owner=LeaderFactory(),
        baseline_period="2026-01",
        target_kind="absolute",
        target_change=5,
        start_date=date(2026, 1, 1),
        end_date=date(2026, 6, 30),
    )
    client = client_for(unit_member)

    assert client.get(f"/api/v1/expectations/{south.pk}/").json() == (
        client.get("/api/v1/expectations/987654/").json()
    )


@pytest.mark.parametrize(
    ("body", "content_type", "status_code"),
    [
        (b"{", "application/json", 400),
        (b'{"responses": "all"}', "application/json", 400),
        (b'{"responses": [{"unit": 1, "answers": []}]}', "application/json", 400),
        (b'{"responses": [{"unit": "n1", "answers": {"nps": 1e999999}}]}', "application/json", 400),
        (
            b'{"responses": [{"unit": "n1", "answers": {"nps": 5}}], "more": 1}',
            "application/json",
            400,
        ),
        (b"nps=5", "application/x-www-form-urlencoded", 415),
        (b"\xff\xfe", "application/json", 400),
        (
            b'{"responses": [{"unit": "n1", "respondent_key": "\\ud800", "answers": {}}]}',
            "application/json",
            400,
        ),
        (b'{"responses": [{"unit": "\\udfff", "answers": {}}]}', "application/json", 400),
        (b'{"responses": [{"unit": "n1", "answers": {"\\ud800": 1}}]}', "application/json", 400),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "application/json", 400, id="deep"),
    ],
)
def test_bulk_bad_input_is_a_client_error(org_tree, owner, body, content_type, status_code):
    SurveyFactory(slug="bulk")

    response = client_for(owner).post(
        "/api/v1/surveys/bulk/responses/bulk/", body, content_type=content_type
    )

    assert_error_shape(response, status_code)


def test_huge_and_foreign_ids_are_not_found(owner):
    for path in ("/api/v1/linkage-runs/99999999999999999999999/", "/api/v1/expectations/0/"):
        assert_error_shape(client_for(owner).get(path), 404)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/linkage-runs/abc/", "/api/v1/units/%C2%84/", "/api/v1/nothing-here/", "/api/v2/"],
)
def test_unrouted_api_paths_are_404_in_the_error_shape(owner, path):
    response = client_for(owner).get(path)

    error = assert_error_shape(response, 404)
    assert response.json() == client_for(owner).get("/api/v1/linkage-runs/987654/").json()
    assert error["code"] == "not_found"


def test_unrouted_pages_keep_the_html_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_wrong_method_is_405_in_the_error_shape(owner):
    error = assert_error_shape(client_for(owner).delete("/api/v1/surveys/"), 405)

    assert error["code"] == "method_not_allowed"


def test_unacceptable_format_is_reported_in_json(owner):
    response = client_for(owner).get("/api/v1/units/", headers={"Accept": "text/csv"})

    assert_error_shape(response, 406)


def test_escaped_emoji_pairs_are_text_not_lone_surrogates(org_tree, owner):
    survey = SurveyFactory(slug="emoji")
    QuestionFactory(survey=survey, code="comment", type=Question.Type.TEXT)
    body = b'{"responses": [{"unit": "n1", "answers": {"comment": "ok \\ud83d\\ude00"}}]}'

    response = client_for(owner).post(
        "/api/v1/surveys/emoji/responses/bulk/", body, content_type="application/json"
    )

    assert response.status_code == 201, response.content
    assert Answer.objects.get().text == "ok \N{GRINNING FACE}"


@pytest.mark.parametrize(
    "body",
    [
        b'{"responses": [{"unit": "n1", "answers": {}, "\\u0000": 1}]}',
        b'{"\\u0000": 1, "responses": []}',
        b'{"responses": [{"unit": "n1", "answers": {"c": "a\\u0000b"}}]}',
    ],
)
def test_nul_characters_are_refused_also_when_the_refusal_is_stored(org_tree, owner, body):
    SurveyFactory(slug="bulk")

    response = client_for(owner).post(
        "/api/v1/surveys/bulk/responses/bulk/",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": "nul-key"},  # the refusal is stored for replay
    )

    assert_error_shape(response, 400)
    assert "\x00" not in response.content.decode()


def test_database_failure_in_a_view_is_a_500_in_the_error_shape(org_tree):
    SurveyFactory(slug="visit", status="open")
    client = APIClient(raise_request_exception=False)
    with mock.patch(
        "surveys.services.submissions.clean_answers",
        side_effect=OperationalError("terminating connection due to administrator command"),
    ):
        response = client.post(
            "/api/v1/submissions/", {"survey": "visit", "unit": "n1", "answers": {}}, format="json"
        )
    error = assert_error_shape(response, 500)
    assert error["code"] == "server_error" and "nothing was changed" in error["message"]
    assert "administrator command" not in response.content.decode()  # no internals leak


def test_handler500_answers_api_paths_in_the_error_shape_and_pages_in_html(rf):
    api = server_error(rf.get("/api/v1/surveys/"))
    assert api.status_code == 500 and api["Content-Type"] == "application/json"
    assert json.loads(api.content)["error"]["code"] == "server_error"
    page = server_error(rf.get("/s/visit/"))
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")
