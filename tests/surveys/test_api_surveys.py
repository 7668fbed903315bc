"""Surveys, org units and invitations through the API, per role."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from surveys.models import Invitation, Question
from tests.factories import (
    AnalystFactory,
    ChoiceFactory,
    LeaderFactory,
    QuestionFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def surveys(org_tree):
    """One survey for the whole company, one for the South region only."""
    everyone = SurveyFactory(slug="everyone", title="Everyone")
    question = QuestionFactory(survey=everyone, code="channel", type=Question.Type.SINGLE)
    ChoiceFactory(question=question, value="web", label="Web")
    south = SurveyFactory(slug="south-only", root_unit=org_tree["south"])
    return {"everyone": everyone, "south": south}


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def slugs(response) -> set[str]:
    return {item["slug"] for item in response.json()["results"]}


def test_survey_list_shows_every_survey_to_leaders_and_analysts(surveys, owner):
    for user in (LeaderFactory(), AnalystFactory(), owner):
        response = client_for(user).get("/api/v1/surveys/")
        assert response.status_code == 200
        assert slugs(response) == {"everyone", "south-only"}


def test_survey_list_limits_a_unit_manager_to_surveys_touching_their_subtree(surveys, unit_member):
    response = client_for(unit_member).get("/api/v1/surveys/")

    assert slugs(response) == {"everyone"}
    assert client_for(unit_member).get("/api/v1/surveys/south-only/").status_code == 404


def test_survey_detail_has_questions_and_choices(surveys, unit_member):
    response = client_for(unit_member).get("/api/v1/surveys/everyone/")

    assert response.status_code == 200
    question = response.json()["questions"][0]
    assert question["code"] == "channel"
    assert question["choices"][0]["value"] == "web"


def test_survey_endpoints_forbid_outsiders_and_need_a_login(surveys, outsider):
    for path in ("/api/v1/surveys/", "/api/v1/surveys/everyone/", "/api/v1/units/"):
        forbidden = client_for(outsider).get(path)
        assert forbidden.status_code == 403
        assert forbidden.json()["error"]["code"] == "permission_denied"
        anonymous = client_for(None).get(path)
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == "not_authenticated"


def test_token_authentication_reads_surveys(surveys, owner):
    token = Token.objects.create(user=owner)
    client = APIClient()

    response = client.get("/api/v1/surveys/", headers={"Authorization": f"Token {token.key}"})

    assert response.status_code == 200
    assert client.get("/api/v1/surveys/", headers={"Authorization": "Token bad"}).status_code == 401


def test_units_are_scoped_to_the_managers_subtree(org_tree, unit_member):
    response = client_for(unit_member).get("/api/v1/units/")

    assert [unit["code"] for unit in response.json()["results"]] == ["north", "n1", "n2"]
    assert client_for(unit_member).get("/api/v1/units/s1/").status_code == 404
    assert client_for(unit_member).get("/api/v1/units/no-such/").status_code == 404


def test_units_filter_by_subtree_and_level(org_tree, owner):
    response = client_for(owner).get("/api/v1/units/", {"subtree": "south", "level": "store"})

    assert [unit["code"] for unit in response.json()["results"]] == ["s1", "s2"]


def test_invitations_batch_returns_tokens_and_urls(surveys, unit_member):
    response = client_for(unit_member).post(
        "/api/v1/surveys/everyone/invitations/",
        {"unit": "n1", "contacts": [{"contact": "a@example.com"}, {"customer_id": "C-7"}]},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["count"] == 2
    tokens = {item["token"] for item in body["invitations"]}
    assert tokens == set(Invitation.objects.values_list("token", flat=True))
    assert body["invitations"][0]["url"].endswith(f"/r/{body['invitations'][0]['token']}/")


def test_invitations_outside_the_managers_subtree_look_unknown(surveys, unit_member):
    response = client_for(unit_member).post(
        "/api/v1/surveys/everyone/invitations/", {"unit": "s1", "count": 2}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"unit": ["Unit 's1' is not known."]}
    assert not Invitation.objects.exists()


def test_invitations_are_staff_only(surveys, outsider):
    analyst = AnalystFactory()  # reads everything, but is not staff
    for user in (analyst, outsider):
        response = client_for(user).post(
            "/api/v1/surveys/everyone/invitations/", {"unit": "n1", "count": 1}, format="json"
        )
        assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_invitations_report_field_errors(surveys, owner):
    response = client_for(owner).post(
        "/api/v1/surveys/everyone/invitations/",
        {"unit": "n1", "count": 0, "contacts": [{"contact": "=cmd|x"}], "expires_in_days": "x"},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"count", "expires_in_days"}


@pytest.mark.parametrize(
    ("contact", "field"),
    [
        ({"contact": "not an address"}, "contacts.1.contact"),
        ({"customer_id": "C-8", "segment": "no pairs here"}, "contacts.1.segment"),
        ({"customer_id": ""}, "contacts.1.contact"),
    ],
)
def test_invitations_contact_errors_name_the_item_and_field(surveys, owner, contact, field):
    response = client_for(owner).post(
        "/api/v1/surveys/everyone/invitations/",
        {"unit": "n1", "contacts": [{"contact": "a@example.com"}, contact]},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert not Invitation.objects.exists()
