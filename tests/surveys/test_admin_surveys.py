import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from surveys.models import Question, Survey
from tests.factories import (
    ChoiceFactory,
    InvitationFactory,
    OrgUnitFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:surveys_survey_changelist")
FROM_TEMPLATE = reverse("admin:surveys_survey_from_template")
RESPONSES = reverse("admin:surveys_response_changelist")


@pytest.fixture
def survey():
    survey = SurveyFactory(title="Store visit", slug="store-visit", status=Survey.Status.DRAFT)
    QuestionFactory(survey=survey, code="nps", order=1)
    ChoiceFactory(question=QuestionFactory(survey=survey, code="reason", order=2, type="single"))
    return survey


def admin_pages(survey: Survey) -> list[str]:
    question = survey.questions.get(code="reason")
    invitation = InvitationFactory(survey=survey)
    response = ResponseFactory(survey=survey)
    return [
        CHANGELIST,
        reverse("admin:surveys_survey_add"),
        reverse("admin:surveys_survey_change", args=[survey.pk]),
        FROM_TEMPLATE,
        reverse("admin:surveys_survey_invitations", args=[survey.pk]),
        reverse("admin:surveys_question_change", args=[question.pk]),
        reverse("admin:surveys_orgunit_changelist"),
        reverse("admin:surveys_orgunit_change", args=[invitation.unit_id]),
        reverse("admin:surveys_invitation_changelist"),
        RESPONSES,
        reverse("admin:surveys_response_change", args=[response.pk]),
    ]


def act(client, action: str, surveys: list[Survey]):
    data = {"action": action, "_selected_action": [survey.pk for survey in surveys]}
    return client.post(CHANGELIST, data, follow=True)


def test_admin_pages_load_for_owner(client, owner, survey):
    client.force_login(owner)

    for url in admin_pages(survey):
        response = client.get(url)
        assert response.status_code == 200, url


def test_admin_pages_forbidden_for_outsider(client, outsider, survey):
    client.force_login(outsider)

    for url in admin_pages(survey):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_admin_survey_change_page_links_preview_invitations_and_public_link(
    client, owner, survey, settings
):
    settings.PUBLIC_BASE_URL = "https://cx.example.com"
    client.force_login(owner)

    page = client.get(reverse("admin:surveys_survey_change", args=[survey.pk])).content.decode()

    assert "/s/store-visit/?preview=1" in page
    assert "https://cx.example.com/s/store-visit/" in page
    assert reverse("admin:surveys_survey_invitations", args=[survey.pk]) in page


def test_admin_survey_changelist_counts_without_a_query_per_survey(client, owner):
    client.force_login(owner)

    def changelist_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(CHANGELIST).status_code == 200
        return len(captured)

    ResponseFactory(survey=SurveyFactory())
    few = changelist_queries()
    for _ in range(4):
        survey = SurveyFactory()
        ResponseFactory.create_batch(2, survey=survey)
        QuestionFactory(survey=survey)

    assert changelist_queries() == few
    page = client.get(CHANGELIST).content.decode()
    assert 'class="field-response_count">2<' in page


def test_admin_open_action_opens_a_survey_with_questions(client, owner, survey):
    client.force_login(owner)

    response = act(client, "open_selected", [survey])

    survey.refresh_from_db()
    assert survey.status == Survey.Status.OPEN
    assert survey.opened_at is not None
    assert survey.closed_at is None
    assert "1 survey(s) opened." in response.content.decode()


def test_admin_open_action_refuses_a_survey_without_questions(client, owner):
    client.force_login(owner)
    empty = SurveyFactory(title="Empty one", status=Survey.Status.DRAFT)

    response = act(client, "open_selected", [empty])

    empty.refresh_from_db()
    assert empty.status == Survey.Status.DRAFT
    assert empty.opened_at is None
    assert "“Empty one” has no questions yet" in response.content.decode()


def test_admin_open_action_refuses_a_choice_question_without_options(client, owner, survey):
    client.force_login(owner)
    QuestionFactory(survey=survey, code="channel", order=3, type=Question.Type.MULTI)

    response = act(client, "open_selected", [survey])

    survey.refresh_from_db()
    assert survey.status == Survey.Status.DRAFT
    assert "the choice question(s) channel have no options yet" in response.content.decode()


def test_admin_close_action_closes_an_open_survey(client, owner, survey):
    client.force_login(owner)
    act(client, "open_selected", [survey])

    act(client, "close_selected", [survey])

    survey.refresh_from_db()
    assert survey.status == Survey.Status.CLOSED
    assert survey.closed_at is not None
    assert survey.opened_at is not None


def test_admin_actions_forbidden_for_staff_without_permission(client, unit_member, survey):
    client.force_login(unit_member)

    response = client.post(CHANGELIST, {"action": "open_selected", "_selected_action": [survey.pk]})

    survey.refresh_from_db()
    assert response.status_code == 403
    assert survey.status == Survey.Status.DRAFT


def test_admin_open_survey_freezes_question_codes_and_types(client, owner, survey):
    client.force_login(owner)
    act(client, "open_selected", [survey])

    page = client.get(reverse("admin:surveys_survey_change", args=[survey.pk]))

    inline = page.context["inline_admin_formsets"][0]
    assert {"code", "type"} <= set(inline.readonly_fields)
    assert not inline.has_add_permission


def test_admin_from_template_creates_a_draft_and_redirects(client, owner):
    client.force_login(owner)
    unit = OrgUnitFactory(name="Acme")

    response = client.post(
        FROM_TEMPLATE,
        {"template_key": "customer_effort", "title": "Help desk effort", "root_unit": unit.pk},
    )

    survey = Survey.objects.get(title="Help desk effort")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:surveys_survey_change", args=[survey.pk])
    assert survey.status == Survey.Status.DRAFT
    assert survey.slug == "help-desk-effort"
    assert survey.root_unit == unit
    assert survey.questions.filter(metric_key="customer.ces").exists()


def test_admin_from_template_shows_a_taken_slug_next_to_the_field(client, owner, survey):
    client.force_login(owner)

    response = client.post(FROM_TEMPLATE, {"template_key": "employee_pulse", "slug": survey.slug})

    assert response.status_code == 200
    assert "already used" in response.context["form"].errors["slug"][0]
    assert Survey.objects.count() == 1


def test_admin_from_template_forbidden_for_staff_without_add_permission(client, unit_member):
    client.force_login(unit_member)

    response = client.post(FROM_TEMPLATE, {"template_key": "employee_pulse"})

    assert response.status_code == 403
    assert not Survey.objects.exists()


def test_admin_response_list_leaves_out_anonymous_and_employee_surveys(client, owner):
    client.force_login(owner)
    shown = ResponseFactory(survey=SurveyFactory(), respondent_key="cust-visible")
    pulse = ResponseFactory(survey=SurveyFactory(employee=True), respondent_key="emp-1")
    anonymous = ResponseFactory(
        survey=SurveyFactory(anonymous=True), respondent_key="anon-customer"
    )

    page = client.get(RESPONSES)
    hidden_page = client.get(reverse("admin:surveys_response_change", args=[pulse.pk]))

    listed = {response.pk for response in page.context["cl"].result_list}
    assert listed == {shown.pk}
    assert anonymous.pk not in listed
    assert "emp-1" not in page.content.decode()
    assert "anon-customer" not in page.content.decode()
    assert hidden_page.status_code == 302  # "doesn't exist", back to the list


def test_admin_response_page_is_read_only_with_answers(client, owner):
    client.force_login(owner)
    response = ResponseFactory(survey=SurveyFactory())
    question = QuestionFactory(survey=response.survey, type=Question.Type.NPS)
    response.answers.create(question=question, number=9)

    page = client.get(reverse("admin:surveys_response_change", args=[response.pk]))
    posted = client.post(reverse("admin:surveys_response_change", args=[response.pk]), {})

    assert page.context["has_change_permission"] is False
    assert "9" in page.content.decode()
    assert posted.status_code == 403


def _survey_form_data(survey: Survey, **changes) -> dict:
    data = {
        "title": survey.title,
        "slug": survey.slug,
        "intro": survey.intro,
        "audience": survey.audience,
        "kind": survey.kind,
        "root_unit": survey.root_unit_id or "",
        "anonymous": "on" if survey.anonymous else "",
        "anonymity_threshold": survey.anonymity_threshold,
        "period_granularity": survey.period_granularity,
        "languages": json.dumps(survey.languages),
        "release_mode": survey.release_mode,
        "reporting_attributes": json.dumps(survey.reporting_attributes),
        "questions-TOTAL_FORMS": 0,
        "questions-INITIAL_FORMS": 0,
    }
    data = {**data, **changes}
    # Texts are edited per language (django-modeltranslation): English is required.
    for field in ("title", "intro"):
        data[f"{field}_en"] = data.pop(field)
    return data


def test_admin_launched_survey_keeps_its_audience_and_anonymity_rules(client, owner):
    survey = SurveyFactory(employee=True, anonymity_threshold=5, status=Survey.Status.OPEN)
    client.force_login(owner)
    url = reverse("admin:surveys_survey_change", args=[survey.pk])
    loosened = _survey_form_data(
        survey, audience="customer", anonymous="", anonymity_threshold=0, title="Pulse"
    )
    assert client.post(url, loosened).status_code == 302
    survey.refresh_from_db()
    assert survey.title == "Pulse"  # the rest of the form still saves
    assert survey.audience == Survey.Audience.EMPLOYEE
    assert survey.anonymous and survey.anonymity_threshold == 5


def test_admin_draft_survey_anonymity_rules_stay_editable(client, owner):
    survey = SurveyFactory(employee=True, anonymity_threshold=5, status=Survey.Status.DRAFT)
    client.force_login(owner)
    url = reverse("admin:surveys_survey_change", args=[survey.pk])
    assert client.post(url, _survey_form_data(survey, anonymity_threshold=8)).status_code == 302
    survey.refresh_from_db()
    assert survey.anonymity_threshold == 8
