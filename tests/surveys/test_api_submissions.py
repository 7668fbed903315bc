"""POST /api/v1/submissions/: public submission by link or token, errors, throttling."""

import json

import pytest
from django.core.cache import cache
from rest_framework.settings import api_settings

from surveys.models import Question, Response
from tests.factories import InvitationFactory, QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/submissions/"


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()  # throttle counts live in the cache
    yield
    cache.clear()


@pytest.fixture
def survey(org_tree):
    survey = SurveyFactory(slug="store-visit", root_unit=org_tree["north"])
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    QuestionFactory(survey=survey, code="comment", type=Question.Type.TEXT, required=False)
    return survey


def post(client, body, **headers):
    return client.post(URL, body, format="json", headers=headers)


def error_of(response) -> dict:
    return response.json()["error"]


def test_submission_by_unit_stores_an_api_response(api_client, survey, org_tree):
    response = post(api_client, {"survey": "store-visit", "unit": "n1", "answers": {"nps": 9}})

    assert response.status_code == 201, response.content
    assert response.json()["received"] is True
    stored = Response.objects.get()
    assert (stored.unit.code, stored.channel) == ("n1", Response.Channel.API)
    assert stored.answers.get().number == 9


def test_submission_by_token_uses_the_invitation(api_client, survey, org_tree):
    invitation = InvitationFactory(survey=survey, unit=org_tree["stores"][1])

    response = post(
        api_client, {"survey": "store-visit", "token": invitation.token, "answers": {"nps": 3}}
    )

    assert response.status_code == 201
    assert Response.objects.get().unit.code == "n2"


def test_submission_reports_answer_errors_by_question(api_client, survey):
    response = post(api_client, {"survey": "store-visit", "unit": "n1", "answers": {"nps": 11}})

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_answers"
    assert list(error["fields"]) == ["answers.nps"]
    assert not Response.objects.exists()


def test_submission_reports_wrong_answer_shapes_by_question(api_client, survey):
    answers = {"nps": 10**400, "comment": {"nested": True}}
    response = post(api_client, {"survey": "store-visit", "unit": "n1", "answers": answers})

    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"answers.nps", "answers.comment"}


@pytest.mark.parametrize(
    ("status_code", "code", "setup"),
    [
        (404, "invitation_not_found", lambda survey: {"token": "nope"}),
        (409, "invitation_used", lambda survey: {"token": _used_token(survey)}),
        (410, "survey_closed", lambda survey: _closed(survey, {"unit": "n1"})),
        (400, "unknown_unit", lambda survey: {"unit": "s1"}),
        (400, "unknown_unit", lambda survey: {"unit": "nowhere"}),
    ],
)
def test_submission_maps_domain_errors_to_statuses(api_client, survey, status_code, code, setup):
    body = {"survey": "store-visit", "answers": {"nps": 5}, **setup(survey)}

    response = post(api_client, body)

    assert response.status_code == status_code
    assert error_of(response)["code"] == code
    assert error_of(response)["message"]


def _used_token(survey) -> str:
    from django.utils import timezone

    invitation = InvitationFactory(
        survey=survey, unit=survey.root_unit, used=True, used_at=timezone.now()
    )
    return invitation.token


def _closed(survey, extra):
    survey.status = survey.Status.CLOSED
    survey.save()
    return extra


def test_submission_to_a_draft_or_unknown_survey_is_not_found(api_client, survey):
    survey.status = survey.Status.DRAFT
    survey.save()

    for slug in ("store-visit", "no-such-survey"):
        response = post(api_client, {"survey": slug, "unit": "n1", "answers": {"nps": 5}})
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[]",
        b'{"survey": 5, "unit": ["n1"], "answers": "x"}',
        b'{"survey": "store-visit", "unit": "n1", "answers": {"nps": 5}, "extra": 1}',
        b'{"survey": "store-visit", "unit": "n1", "token": "t", "answers": {}}',
        b'{"survey": "store-visit", "unit": "n\\u0000", "answers": {"nps": "\\u0000"}}',
        b'{"survey": "store-visit", "unit": "n1", "answers": {"nps": 1e999}}',
        b'{"survey": "store-visit", "unit": "n1", "answers": {"nps": 5, "comment": "\\ud800"}}',
        b'{"survey": "store-visit", "unit": "n1", "answers": {"nps": 5}, "\\udc00": 1}',
        pytest.param(b'{"answers": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", id="deep"),
    ],
)
def test_submission_refuses_bad_input_with_400(api_client, survey, raw):
    response = api_client.post(URL, raw, content_type="application/json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["status"] == 400 and error["message"]
    assert not Response.objects.exists()


def test_submission_answers_of_the_wrong_shape_are_an_answers_error(api_client, survey):
    response = post(api_client, {"survey": "store-visit", "unit": "n1", "answers": "x"})

    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["answers"]


def test_submission_refuses_form_bodies_with_415(api_client, survey):
    response = api_client.post(URL, {"survey": "store-visit"}, format="multipart")

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_submission_is_throttled_at_the_configured_rate(api_client, survey, monkeypatch):
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "public_submit", "2/minute")
    body = {"survey": "store-visit", "unit": "n1", "answers": {"nps": 7}}

    statuses = [post(api_client, body).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    assert Response.objects.count() == 2


def test_submission_throttle_ignores_a_spoofed_forwarded_for(api_client, survey, monkeypatch):
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "public_submit", "2/minute")
    body = {"survey": "store-visit", "unit": "n1", "answers": {"nps": 7}}

    statuses = [
        post(api_client, body, **{"X-Forwarded-For": f"203.0.113.{index}"}).status_code
        for index in range(3)
    ]

    assert statuses == [201, 201, 429]


def test_submission_retry_with_idempotency_key_creates_nothing_twice(api_client, survey):
    body = {"survey": "store-visit", "unit": "n1", "answers": {"nps": 8}}

    first = post(api_client, body, **{"Idempotency-Key": "retry-1"})
    again = post(api_client, body, **{"Idempotency-Key": "retry-1"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Response.objects.count() == 1


def test_submission_same_key_with_another_body_is_refused(api_client, survey):
    body = {"survey": "store-visit", "unit": "n1", "answers": {"nps": 8}}
    post(api_client, body, **{"Idempotency-Key": "retry-2"})

    changed = post(api_client, {**body, "answers": {"nps": 2}}, **{"Idempotency-Key": "retry-2"})

    assert changed.status_code == 422
    assert error_of(changed)["code"] == "idempotency_key_reused"
    assert Response.objects.count() == 1


def test_submission_replays_a_refusal_without_running_again(api_client, survey):
    body = {"survey": "store-visit", "unit": "n1", "answers": {"nps": 12}}
    first = post(api_client, body, **{"Idempotency-Key": "bad-1"})

    again = post(api_client, body, **{"Idempotency-Key": "bad-1"})

    assert first.status_code == again.status_code == 400
    assert json.loads(again.content) == json.loads(first.content)
