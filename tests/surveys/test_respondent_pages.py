"""Respondent pages: public link, personal invitation, thanks, preview and the home page."""

from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from surveys.models import Answer, Invitation, OrgUnit, Question, Response, Survey
from surveys.services import open_survey
from surveys.services.library import create_survey_from_template
from tests.factories import (
    ChoiceFactory,
    InvitationFactory,
    OrgUnitFactory,
    QuestionFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db

VALID_ANSWERS = {
    "q_nps": "9",
    "q_csat": "4",
    "q_ces": "6",
    "q_agree": "5",
    "q_stars": "8",
    "q_minutes": "35",
    "q_visits": "3",
    "q_goal": "yes",
    "q_channels": ["web", "phone"],
    "q_why": "Quick and friendly.",
}


class ElementCollector(HTMLParser):
    """Every start tag as (tag, attributes), in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = ElementCollector()
    collector.feed(html)
    return collector.elements


def fieldset_of(html: str, code: str) -> str:
    """The markup of one question's fieldset."""
    start = html.index(f'<fieldset id="question-{code}"')
    return html[start : html.index("</fieldset>", start)]


def checked_values(html: str, name: str) -> set[str]:
    return {
        attrs["value"]
        for tag, attrs in elements_of(html)
        if tag == "input" and attrs.get("name") == name and "checked" in attrs
    }


@pytest.fixture
def store():
    return OrgUnitFactory(code="store-1", name="Main Street", level=OrgUnit.Level.STORE)


@pytest.fixture
def survey():
    survey = SurveyFactory(slug="visit", title="Your visit")
    add = QuestionFactory
    add(survey=survey, code="nps", type=Question.Type.NPS, help_text="Think of your last visit.")
    add(survey=survey, code="csat", type=Question.Type.CSAT, text="How satisfied were you?")
    add(survey=survey, code="ces", type=Question.Type.CES, text="It was easy.")
    add(survey=survey, code="agree", type=Question.Type.LIKERT, text="Staff were kind.")
    add(survey=survey, code="stars", type=Question.Type.RATING, min_value=1, max_value=10)
    add(survey=survey, code="minutes", type=Question.Type.RATING, min_value=0, max_value=120)
    add(survey=survey, code="visits", type=Question.Type.NUMBER, min_value=0, required=False)
    goal = add(survey=survey, code="goal", type=Question.Type.SINGLE, text="Goal reached?")
    ChoiceFactory(question=goal, value="yes", label="Yes", score=1)
    ChoiceFactory(question=goal, value="no", label="No", score=0)
    channels = add(survey=survey, code="channels", type=Question.Type.MULTI, required=False)
    ChoiceFactory(question=channels, value="web", label="Website")
    ChoiceFactory(question=channels, value="phone", label="Phone")
    add(survey=survey, code="why", type=Question.Type.TEXT, text="Why?", required=False)
    return survey


def public_url(survey: Survey, unit: OrgUnit | None = None, **params: str) -> str:
    query = {"u": unit.code} if unit else {}
    query.update(params)
    path = reverse("surveys:public", kwargs={"slug": survey.slug})
    return f"{path}?{urlencode(query)}" if query else path


def test_respondent_page_renders_every_question_type_accessibly(client, survey, store):
    page = client.get(public_url(survey, store))
    html = page.content.decode()
    assert page.status_code == 200
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    elements = elements_of(html)
    fieldsets = [attrs["id"] for tag, attrs in elements if tag == "fieldset"]
    assert fieldsets == [f"question-{question.code}" for question in survey.questions.all()]
    assert sum(tag == "legend" for tag, _ in elements) == len(fieldsets)
    labelled = {attrs.get("for") for tag, attrs in elements if tag == "label"}
    controls = [
        attrs
        for tag, attrs in elements
        if tag in ("input", "textarea", "select") and attrs.get("type") != "hidden"
    ]
    assert controls and all(attrs["id"] in labelled for attrs in controls)
    types_of = {
        name: {attrs.get("type", "textarea") for attrs in controls if attrs["name"] == name}
        for name in VALID_ANSWERS
    }
    assert types_of["q_nps"] == {"radio"} and len(checked_values(html, "q_nps")) == 0
    assert types_of["q_stars"] == {"radio"} and types_of["q_minutes"] == {"number"}
    assert types_of["q_channels"] == {"checkbox"} and types_of["q_why"] == {"textarea"}
    assert len([attrs for attrs in controls if attrs["name"] == "q_nps"]) == 11
    nps = fieldset_of(html, "nps")
    assert "Not at all likely" in nps and "Extremely likely" in nps
    assert 'aria-describedby="question-nps-help"' in nps and 'aria-required="true"' in nps


def test_respondent_page_keeps_answers_and_shows_required_error_next_to_field(
    client, survey, store
):
    answers = {key: value for key, value in VALID_ANSWERS.items() if key != "q_nps"}
    page = client.post(public_url(survey, store), answers)
    html = page.content.decode()
    assert page.status_code == 200
    nps = fieldset_of(html, "nps")
    assert "This question is required." in nps
    assert 'aria-describedby="question-nps-help question-nps-error"' in nps
    assert "This question is required." not in fieldset_of(html, "csat")
    assert checked_values(html, "q_csat") == {"4"}
    assert checked_values(html, "q_channels") == {"web", "phone"}
    assert "Quick and friendly.</textarea>" in html
    assert Response.objects.count() == 0


def test_respondent_page_rejects_out_of_range_value_and_writes_nothing(client, survey, store):
    page = client.post(public_url(survey, store), {**VALID_ANSWERS, "q_minutes": "500"})
    assert page.status_code == 200
    assert "Choose a value from 0 to 120." in fieldset_of(page.content.decode(), "minutes")
    assert Response.objects.count() == 0 and Answer.objects.count() == 0


def test_respondent_page_saves_and_redirects_to_thanks_that_reveal_nothing(client, survey, store):
    page = client.post(public_url(survey, store), VALID_ANSWERS)
    assert page.status_code == 302 and page["Location"] == f"/s/{survey.slug}/thanks/"
    response = Response.objects.get()
    assert response.unit == store and response.answers.count() == len(VALID_ANSWERS)
    thanks = client.get(page["Location"]).content.decode()
    assert "Thank you" in thanks
    assert "Quick and friendly." not in thanks and "Main Street" not in thanks


@pytest.mark.parametrize("method", ["get", "post"])
def test_respondent_page_for_closed_survey_is_410(client, survey, store, method):
    survey.status = Survey.Status.CLOSED
    survey.save()
    page = getattr(client, method)(public_url(survey, store), VALID_ANSWERS)
    assert page.status_code == 410
    assert "This survey is not accepting answers." in page.content.decode()
    assert Response.objects.count() == 0


def test_invitation_page_answers_once_then_shows_already_answered(client, survey):
    invitation = InvitationFactory(survey=survey, unit=OrgUnitFactory(name="Harbour"))
    url = invitation.get_absolute_url()
    assert "About: Harbour" in client.get(url).content.decode()
    assert client.post(url, VALID_ANSWERS).status_code == 302
    again = client.get(url)
    assert again.status_code == 409
    assert "already been answered" in again.content.decode()
    assert client.post(url, VALID_ANSWERS).status_code == 409
    assert Response.objects.filter(invitation=invitation).count() == 1


def test_invitation_page_for_expired_token_is_410(client, survey):
    yesterday = timezone.now() - timedelta(days=1)
    invitation = InvitationFactory(survey=survey, expires_at=yesterday)
    page = client.get(invitation.get_absolute_url())
    assert page.status_code == 410 and "expired" in page.content.decode()
    assert Invitation.objects.get(pk=invitation.pk).used_at is None


def test_invitation_page_for_unknown_token_is_404(client):
    page = client.get(reverse("surveys:invitation", kwargs={"token": "no-such-token"}))
    assert page.status_code == 404
    assert "This invitation link is not valid." in page.content.decode()


def test_employee_survey_page_states_anonymity_promise(client, survey, store):
    pulse = SurveyFactory(
        employee=True, slug="pulse", anonymity_threshold=7, allow_public_link=True
    )
    QuestionFactory(survey=pulse, code="enps", type=Question.Type.NPS)
    html = client.get(public_url(pulse, store)).content.decode()
    assert "Results are only reported for groups of at least 7 people." in html
    assert "No name or e-mail address is stored with your answers" in html
    customer_html = client.get(public_url(survey, store)).content.decode()
    assert "groups of at least" not in customer_html


def test_employee_survey_page_promises_no_name_stored_when_not_anonymous(client, store):
    pulse = SurveyFactory(
        audience=Survey.Audience.EMPLOYEE, kind=Survey.Kind.PULSE, allow_public_link=True
    )
    QuestionFactory(survey=pulse, code="enps", type=Question.Type.NPS)
    html = client.get(public_url(pulse, store)).content.decode()
    assert "Your answers are confidential" in html
    assert "Results are only reported for groups of at least 5 people." in html
    assert "No name or e-mail address is stored with your answers" in html


def test_respondent_page_enforces_csrf(survey, store):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(public_url(survey, store), VALID_ANSWERS).status_code == 403
    assert Response.objects.count() == 0
    browser.get(public_url(survey, store))
    token = browser.cookies["csrftoken"].value
    posted = browser.post(
        public_url(survey, store), {**VALID_ANSWERS, "csrfmiddlewaretoken": token}
    )
    assert posted.status_code == 302 and Response.objects.count() == 1


def test_preview_of_draft_is_for_staff_only(client, survey, store, owner, outsider):
    survey.status = Survey.Status.DRAFT
    survey.save()
    url = public_url(survey, store, preview="1")
    assert client.get(url).status_code == 404
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(owner)
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and "Preview — answers are not saved" in html
    assert [attrs for tag, attrs in elements_of(html) if tag == "button"][0].keys() >= {"disabled"}
    assert client.get(public_url(survey, store)).status_code == 404
    assert client.post(url, VALID_ANSWERS).status_code == 403
    assert Response.objects.count() == 0


def test_public_link_without_unit_asks_for_store_under_survey_root(client, survey, org_tree):
    survey.root_unit = org_tree["north"]
    survey.save()
    html = client.get(public_url(survey)).content.decode()
    assert "Which store or team is this about?" in html
    options = [attrs["value"] for tag, attrs in elements_of(html) if tag == "option"]
    assert options == ["", "n1", "n2"]
    missing = client.post(public_url(survey), VALID_ANSWERS).content.decode()
    assert "Choose the store or team this answer is about." in missing
    assert checked_values(missing, "q_nps") == {"9"} and Response.objects.count() == 0
    assert client.post(public_url(survey), {**VALID_ANSWERS, "unit": "s1"}).status_code == 200
    assert client.post(public_url(survey), {**VALID_ANSWERS, "unit": "n2"}).status_code == 302
    assert Response.objects.get().unit.code == "n2"


def test_public_link_without_unit_and_nothing_to_choose_is_400(client, survey, store):
    page = client.get(public_url(survey))
    assert page.status_code == 400
    assert "does not say which store or team" in page.content.decode()
    assert client.get(public_url(survey, store)).status_code == 200


def test_home_page_links_open_customer_surveys_with_example_unit(client, survey, org_tree):
    survey.root_unit = org_tree["south"]
    survey.save()
    SurveyFactory(title="Hidden draft", status=Survey.Status.DRAFT)
    SurveyFactory(title="Staff pulse", employee=True)
    html = client.get(reverse("surveys:home")).content.decode()
    assert f'href="/s/{survey.slug}/?u=s1"' in html
    assert "Hidden draft" not in html and "Staff pulse" not in html
    assert 'href="/admin/"' in html and 'href="/dashboard/"' in html and 'href="/api/docs/"' in html


def test_respondent_page_groups_grid_questions_under_their_competency(client, store):
    survey = create_survey_from_template(template_key="leadership_self_assessment")
    Survey.objects.filter(pk=survey.pk).update(allow_public_link=True)
    open_survey(survey=survey)
    html = client.get(public_url(survey, store)).content.decode()
    section_start = html.index(
        '<section class="question-grid" aria-labelledby="grid-purposeful_leadership">'
    )
    heading = html.index("Purposeful leadership</h2>", section_start)
    first_item = html.index('id="question-purposeful_leadership_1"', heading)
    section_end = html.index("</section>", first_item)
    assert 'id="question-purposeful_leadership_3"' in html[first_item:section_end]
    assert 'id="question-customer_understanding_1"' not in html[first_item:section_end]
    assert html.count('class="question-grid"') == 4


def test_respondent_page_reuses_its_blank_questions_until_a_question_changes(client, survey, store):
    # The question block of an unanswered form is rendered once per definition and language;
    # an edit starts a new definition, so the next visitor sees the new text at once.
    first = client.get(public_url(survey, store)).content.decode()
    again = client.get(public_url(survey, store)).content.decode()
    assert fieldset_of(first, "csat") == fieldset_of(again, "csat")
    assert "How satisfied were you?" in fieldset_of(again, "csat")
    question = survey.questions.get(code="csat")
    question.text = "Overall, how satisfied were you today?"
    question.save()
    edited = client.get(public_url(survey, store)).content.decode()
    assert "Overall, how satisfied were you today?" in fieldset_of(edited, "csat")
    answered = client.post(public_url(survey, store), {"q_csat": "4"}).content.decode()
    assert 'value="4" checked' in fieldset_of(answered, "csat")  # a bound form is never reused
