"""A bulk request with very many bad values answers with a bounded error body: the first rows'
errors in detail, the rest counted, and memory that does not grow with the messages."""

import json
import tracemalloc

import pytest

from common.exceptions import MAX_FIELDS_SHOWN, MAX_ITEMS_SHOWN
from surveys.models import Response
from tests.factories import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db
ROWS = 2000
BAD_CODES = 150


@pytest.fixture
def survey(org_tree):
    survey = SurveyFactory(slug="bulk-capped", root_unit=org_tree["company"])
    QuestionFactory(survey=survey, code="nps", required=False)
    return survey


def test_bulk_with_unknown_codes_in_every_row_lists_the_first_rows_and_counts_the_rest(
    api_client, survey, owner
):
    api_client.force_authenticate(owner)
    answers = {f"unknown_{index}": 5 for index in range(BAD_CODES)}
    body = {"responses": [{"unit": "n1", "answers": answers} for _ in range(ROWS)]}

    tracemalloc.start()
    response = api_client.post("/api/v1/surveys/bulk-capped/responses/bulk/", body, format="json")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert response.status_code == 400
    error = response.json()["error"]
    assert len(error["items"]) == MAX_ITEMS_SHOWN
    assert all(len(fields) <= MAX_FIELDS_SHOWN for fields in error["items"].values())
    assert error["items"]["0"]["answers.unknown_0"] == ["This question is not part of the survey."]
    assert error["items_omitted"] == {
        "items": ROWS - MAX_ITEMS_SHOWN,
        "messages": ROWS * BAD_CODES - MAX_ITEMS_SHOWN * MAX_FIELDS_SHOWN,
    }
    assert "2,000 row(s)" in error["message"]
    assert len(response.content) < 300_000, len(response.content)
    # The request body itself is ~5 MB here; the 300,000 messages would be ~60 MB more.
    assert peak < 60_000_000, peak
    assert not Response.objects.exists()


def test_bulk_shape_errors_are_capped_the_same_way(api_client, survey, owner):
    api_client.force_authenticate(owner)
    answers = {f"q{index}": {"nested": True} for index in range(30)}
    body = {"responses": [{"unit": "n1", "answers": answers} for _ in range(500)]}

    response = api_client.post("/api/v1/surveys/bulk-capped/responses/bulk/", body, format="json")

    error = response.json()["error"]
    assert response.status_code == 400, error
    assert len(error["items"]) == MAX_ITEMS_SHOWN
    assert error["items_omitted"]["items"] == 500 - MAX_ITEMS_SHOWN
    assert len(json.dumps(error)) < 300_000


def test_bulk_with_few_bad_rows_lists_them_all_without_counts(api_client, survey, owner):
    api_client.force_authenticate(owner)
    rows = [{"unit": "n1", "answers": {"nps": 9}}] * 3 + [{"unit": "n1", "answers": {"x": 1}}]

    response = api_client.post(
        "/api/v1/surveys/bulk-capped/responses/bulk/", {"responses": rows}, format="json"
    )

    error = response.json()["error"]
    assert list(error["items"]) == ["3"]
    assert "items_omitted" not in error
