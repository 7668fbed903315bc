"""POST /api/v1/surveys/{slug}/responses/bulk/: all-or-nothing bulk submission."""

import pytest
from rest_framework.test import APIClient

from surveys.models import Answer, DirtyScoreCell, Question, Response, WebhookDelivery
from tests.factories import (
    AnalystFactory,
    QuestionFactory,
    SurveyFactory,
    WebhookSubscriptionFactory,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/surveys/bulk-survey/responses/bulk/"


@pytest.fixture
def survey(org_tree):
    survey = SurveyFactory(slug="bulk-survey")
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    QuestionFactory(survey=survey, code="csat", type=Question.Type.CSAT, required=False)
    return survey


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def rows(count: int, unit: str = "n1") -> list[dict]:
    return [{"unit": unit, "answers": {"nps": index % 11, "csat": 4}} for index in range(count)]


def test_bulk_writes_every_response_in_one_go(survey, unit_member):
    body = {"responses": [*rows(3), {**rows(1, "n2")[0], "submitted_at": "2026-02-03T10:00Z"}]}

    response = client_for(unit_member).post(URL, body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["responses"] == 4
    assert response.json()["answers"] == 8
    assert Response.objects.filter(channel=Response.Channel.API).count() == 4
    assert Response.objects.filter(period="2026-02").count() == 1


def test_bulk_errors_name_the_item_and_field_and_write_nothing(survey, owner):
    body = {"responses": rows(20)}
    body["responses"][17]["answers"]["nps"] = 12
    body["responses"][3]["unit"] = "atlantis"

    response = client_for(owner).post(URL, body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["items"]["17"] == {"answers.nps": ["Choose a value from 0 to 10."]}
    assert error["items"]["3"] == {"unit": ["Unit 'atlantis' is not known."]}
    assert set(error["items"]) == {"3", "17"}
    assert not Response.objects.exists()


def test_bulk_shape_errors_are_per_item(survey, owner):
    body = {"responses": [rows(1)[0], "text", {"unit": "n1", "answers": {"nps": True}, "x": 1}]}

    response = client_for(owner).post(URL, body, format="json")

    assert response.status_code == 400
    items = response.json()["error"]["items"]
    assert set(items) == {"1", "2"}
    assert set(items["2"]) == {"answers.nps", "x"}


def test_bulk_refuses_units_outside_the_managers_subtree_as_unknown(survey, unit_member):
    body = {"responses": [*rows(2), *rows(1, "s1")]}

    response = client_for(unit_member).post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["items"] == {"2": {"unit": ["Unit 's1' is not known."]}}
    assert not Response.objects.exists()


def test_bulk_allows_analysts_and_forbids_outsiders(survey, outsider):
    assert (
        client_for(AnalystFactory()).post(URL, {"responses": rows(1)}, format="json").status_code
        == 201
    )
    assert client_for(outsider).post(URL, {"responses": rows(1)}, format="json").status_code == 403
    assert APIClient().post(URL, {"responses": rows(1)}, format="json").status_code == 401
    assert Response.objects.count() == 1


def test_bulk_refuses_more_than_ten_thousand_rows(survey, owner, monkeypatch):
    monkeypatch.setattr("surveys.api.serializers.MAX_IMPORT_ROWS", 5)

    response = client_for(owner).post(URL, {"responses": rows(6)}, format="json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "import_too_large"


def test_bulk_time_out_of_range_is_an_item_error_not_a_500(survey, owner):
    first, second = rows(2)
    body = {
        "responses": [
            {**first, "submitted_at": "0001-01-01T00:00:00+05:00"},
            {**second, "submitted_at": "9999-12-31T23:59:59+14:00"},
        ]
    }

    response = client_for(owner).post(URL, body, format="json")

    assert response.status_code == 400, response.content
    assert set(response.json()["error"]["items"]) == {"0", "1"}
    assert response.json()["error"]["items"]["0"] == {
        "submitted_at": ["Give a time between 1970 and now, not in the future."]
    }
    assert not Response.objects.exists()


def _written(survey) -> dict[str, int]:
    """Rows a bulk import writes, by kind."""
    return {
        "responses": Response.objects.filter(survey=survey).count(),
        "answers": Answer.objects.filter(response__survey=survey).count(),
        "dirty cells": DirtyScoreCell.objects.filter(survey=survey).count(),
        "webhook deliveries": WebhookDelivery.objects.filter(subscription__survey=survey).count(),
    }


def test_bulk_open_survey_writes_responses_answers_dirty_cells_and_deliveries(survey, owner):
    WebhookSubscriptionFactory(survey=survey)

    response = client_for(owner).post(URL, {"responses": rows(2)}, format="json")

    assert response.status_code == 201
    assert all(_written(survey).values()), _written(survey)


def test_bulk_closed_survey_is_gone_and_writes_nothing(
    survey, owner, django_capture_on_commit_callbacks
):
    WebhookSubscriptionFactory(survey=survey)
    survey.status = survey.Status.CLOSED
    survey.save()

    with django_capture_on_commit_callbacks() as after_commit:
        response = client_for(owner).post(URL, {"responses": rows(2)}, format="json")

    assert response.status_code == 410
    assert response.json()["error"]["code"] == "survey_closed"
    assert _written(survey) == dict.fromkeys(_written(survey), 0)
    assert after_commit == []  # no recompute or delivery queued either


def test_bulk_retry_with_the_same_key_creates_nothing_twice(survey, owner):
    client = client_for(owner)
    body = {"responses": rows(5)}

    first = client.post(URL, body, format="json", headers={"Idempotency-Key": "batch-1"})
    retry = client.post(URL, body, format="json", headers={"Idempotency-Key": "batch-1"})
    other = client.post(URL, body, format="json", headers={"Idempotency-Key": "batch-2"})

    assert first.status_code == retry.status_code == other.status_code == 201
    assert retry.json() == first.json()
    assert Response.objects.count() == 10


def test_bulk_keys_belong_to_one_user(survey, owner):
    body = {"responses": rows(1)}
    client_for(owner).post(URL, body, format="json", headers={"Idempotency-Key": "shared"})

    analyst_call = client_for(AnalystFactory()).post(
        URL, body, format="json", headers={"Idempotency-Key": "shared"}
    )

    assert analyst_call.status_code == 201
    assert "Idempotent-Replayed" not in analyst_call.headers
    assert Response.objects.count() == 2


def test_bulk_invalid_idempotency_key_is_a_field_error(survey, owner):
    response = client_for(owner).post(
        URL, {"responses": rows(1)}, format="json", headers={"Idempotency-Key": "has space"}
    )

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]


def test_bulk_expired_key_runs_again(survey, owner):
    from django.utils import timezone

    from common.models import IdempotencyRecord

    client = client_for(owner)
    body = {"responses": rows(1)}
    client.post(URL, body, format="json", headers={"Idempotency-Key": "old"})
    IdempotencyRecord.objects.update(expires_at=timezone.now())

    again = client.post(URL, body, format="json", headers={"Idempotency-Key": "old"})

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert Response.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 1
