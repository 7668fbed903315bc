"""Multilingual surveys: the respondent's language from the switcher, the invitation or
Accept-Language, else the survey's default; texts per language with English fallback; fixed
page texts from the compiled catalogues; scores pool across languages; the admin lists
missing translations."""

import pytest
from django.test import Client
from django.urls import reverse

from surveys.languages import accepted_languages, choose_language, missing_translations
from surveys.models import MetricValue, OrgUnit, Question, Response, Survey
from surveys.selectors import questions_for
from surveys.services.scores import recompute_all
from tests.factories import ChoiceFactory, InvitationFactory, OrgUnitFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return OrgUnitFactory(code="store-1", level=OrgUnit.Level.STORE)


@pytest.fixture
def visit():
    survey = SurveyFactory(
        slug="visit",
        title_en="Your visit",
        title_de="Ihr Besuch",
        languages=["en", "de"],
        status=Survey.Status.OPEN,
    )
    Question.objects.create(
        survey=survey,
        code="nps",
        order=1,
        type=Question.Type.NPS,
        text_en="How likely are you to recommend us?",
        text_de="Wie wahrscheinlich ist es, dass Sie uns empfehlen?",
        metric_key="customer.nps",
    )
    goal = Question.objects.create(
        survey=survey,
        code="goal",
        order=2,
        type=Question.Type.SINGLE,
        required=False,
        text_en="Did you get what you came for?",
        text_de="Haben Sie bekommen, was Sie wollten?",
    )
    ChoiceFactory(question=goal, value="yes", label_en="Yes", label_de="Ja")
    ChoiceFactory(question=goal, value="no", label_en="No", label_de="")
    return survey


def url(survey, unit, **query):
    extra = "".join(f"&{key}={value}" for key, value in query.items())
    return f"/s/{survey.slug}/?u={unit.code}{extra}"


def test_accept_language_header_is_read_by_quality():
    assert accepted_languages("fr-CH, de;q=0.9, en;q=0.8") == ["fr", "de", "en"]
    assert accepted_languages("en;q=0.2, de-AT") == ["de", "en"]
    assert accepted_languages("*, xx;q=0") == []


def test_language_choice_order_switcher_invitation_browser_default():
    survey = SurveyFactory.build(languages=["de", "en"])
    assert choose_language(survey, requested="en", invitation_language="de") == "en"
    assert choose_language(survey, invitation_language="en", accept="de") == "en"
    assert choose_language(survey, accept="fr, en;q=0.5") == "en"
    assert choose_language(survey, accept="fr") == "de"  # not offered: the survey default
    assert choose_language(SurveyFactory.build(languages=[]), accept="de") == "en"


def test_german_browser_sees_the_survey_in_german(visit, store):
    page = Client().get(url(visit, store), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    html = page.content.decode()
    assert page["Content-Language"] == "de" and '<html lang="de">' in html
    assert "Ihr Besuch" in html and "Wie wahrscheinlich ist es" in html
    assert "Antworten senden" in html and "Überhaupt nicht wahrscheinlich" in html
    assert ">Ja</label>" in html and ">No</label>" in html  # empty translation: English


def test_english_browser_and_survey_without_german_stay_english(visit, store):
    english = Client().get(url(visit, store), HTTP_ACCEPT_LANGUAGE="en-GB")
    assert "Your visit" in english.content.decode() and english["Content-Language"] == "en"
    visit.languages = ["en"]
    visit.save(update_fields=["languages"])  # as the admin saves it (drops the cached definition)
    page = Client().get(url(visit, store), HTTP_ACCEPT_LANGUAGE="de")
    assert "Send answers" in page.content.decode() and "Ihr Besuch" not in page.content.decode()


def test_switcher_links_each_language_and_keeps_the_unit(visit, store):
    html = Client().get(url(visit, store)).content.decode()
    assert 'href="/s/visit/?u=store-1&amp;lang=de"' in html
    assert 'aria-current="true">English' in html


def test_german_answer_is_stored_with_its_language_and_thanks_in_german(visit, store):
    browser = Client()
    sent = browser.post(url(visit, store, lang="de"), {"q_nps": "9"})
    assert sent.status_code == 302 and sent["Location"] == "/s/visit/thanks/?lang=de"
    assert Response.objects.get().language == "de"
    assert "Vielen Dank!" in browser.get(sent["Location"]).content.decode()


def test_german_validation_errors_are_german(visit, store):
    page = Client().post(url(visit, store, lang="de"), {"q_nps": ""})
    assert "Diese Frage muss beantwortet werden." in page.content.decode()


def test_invitation_language_wins_over_the_browser(visit, store):
    invitation = InvitationFactory(survey=visit, unit=store, language="de")
    page = Client().get(invitation.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "Ihr Besuch" in page.content.decode()


def test_scores_pool_answers_given_in_every_language(visit, store):
    for language, score in (("de", "10"), ("en", "10"), ("de", "3"), ("en", "8")):
        Client().post(url(visit, store, lang=language), {"q_nps": score})
    assert set(Response.objects.values_list("language", flat=True)) == {"de", "en"}
    recompute_all()
    value = MetricValue.objects.get(metric__key="customer.nps", unit=store)
    assert value.n == 4 and value.value == pytest.approx(100 * (2 - 1) / 4)


def test_missing_translations_are_listed_per_language(visit, client, owner):
    missing = missing_translations(visit, questions_for(visit))
    assert [(item.language, item.items) for item in missing] == [("de", ["options of goal"])]
    client.force_login(owner)
    page = client.get(reverse("admin:surveys_survey_change", args=[visit.pk]))
    assert "de: options of goal" in page.content.decode()


def test_text_written_in_another_language_only_is_never_shown_empty(store):
    survey = SurveyFactory(slug="nur-deutsch", title_en="", title_de="Nur Deutsch")
    Question.objects.create(survey=survey, code="nps", type=Question.Type.NPS, text_de="Wie?")
    html = Client().get(url(survey, store), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<h1>Nur Deutsch</h1>" in html and "Wie?" in html


@pytest.mark.parametrize(
    ("language", "send", "required"),
    [
        ("de", "Antworten senden", "Diese Frage muss beantwortet werden."),
        ("fr", "Envoyer les réponses", "Cette question est obligatoire."),
        ("es", "Enviar respuestas", "Esta pregunta es obligatoria."),
    ],
)
def test_every_site_language_has_compiled_page_texts(language, send, required):
    from django.utils import translation

    with translation.override(language):
        assert translation.gettext("Send answers") == send
        assert translation.gettext("This question is required.") == required
        assert "%(threshold)s" in translation.ngettext(
            "Results are only reported for groups of at least %(threshold)s person.",
            "Results are only reported for groups of at least %(threshold)s people.",
            5,
        )
