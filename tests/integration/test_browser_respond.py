"""A customer answers a survey in headless Chromium, using only the keyboard for the scales."""

import os
from pathlib import Path

import pytest

from surveys.models import Answer, OrgUnit, Question, Response
from tests.conftest import skip_or_fail
from tests.factories import OrgUnitFactory, QuestionFactory, SurveyFactory

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # a minimal install runs without browser tests
    sync_playwright = None

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser():
    if sync_playwright is None:
        skip_or_fail("playwright is not installed")
    if not CHROMIUM.exists():
        skip_or_fail(f"chromium not found at {CHROMIUM}")
    # Playwright's sync API keeps an event loop on this thread, which Django's ORM guard
    # mistakes for async code; the test body and teardown only make plain blocking queries.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def survey_url(live_server):
    store = OrgUnitFactory(code="store-7", level=OrgUnit.Level.STORE)
    survey = SurveyFactory(slug="checkout", title="Checkout")
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    QuestionFactory(survey=survey, code="csat", type=Question.Type.CSAT, text="Satisfied?")
    QuestionFactory(survey=survey, code="why", type=Question.Type.TEXT, required=False)
    return f"{live_server.url}/s/{survey.slug}/?u={store.code}"


def tab_to(page, name: str, limit: int = 15) -> None:
    """Press Tab until a control called `name` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == name:
            return
    pytest.fail(f"Tab never reached {name}")


def test_browser_respondent_answers_by_keyboard_and_sees_thanks(page, survey_url):
    page.goto(survey_url)
    tab_to(page, "q_nps")
    focus_outline = "getComputedStyle(document.activeElement.nextElementSibling).outlineStyle"
    assert page.evaluate(focus_outline) == "solid"
    page.keyboard.press("Space")
    for _ in range(9):
        page.keyboard.press("ArrowRight")
    assert page.locator("input[name=q_nps]:checked").get_attribute("value") == "9"
    tab_to(page, "q_csat")
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    tab_to(page, "q_why")
    page.keyboard.type("Quick checkout")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/s/checkout/thanks/")
    assert page.locator("h1").inner_text() == "Thank you!"
    answers = dict(Answer.objects.values_list("question__code", "number"))
    assert answers == {"nps": 9.0, "csat": 4.0, "why": None}
    assert Response.objects.get().unit.code == "store-7"


def test_browser_missing_required_answer_shows_error_next_to_question(page, survey_url):
    page.goto(survey_url)
    page.check("#id_q_csat_3")
    page.fill("textarea[name=q_why]", "No score given")
    page.click("button[type=submit]")
    error = page.locator("#question-nps .error-message")
    assert "This question is required." in error.inner_text()
    assert page.locator("#question-csat .error-message").count() == 0
    assert page.locator("input[name=q_csat]:checked").get_attribute("value") == "4"
    assert page.input_value("textarea[name=q_why]") == "No score given"
    assert Response.objects.count() == 0


@pytest.fixture
def logic_url(live_server):
    store = OrgUnitFactory(code="store-8", level=OrgUnit.Level.STORE)
    survey = SurveyFactory(
        slug="logic", title_en="Visit", title_de="Besuch", languages=["en", "de"]
    )
    QuestionFactory(survey=survey, code="nps", order=1, type=Question.Type.NPS)
    QuestionFactory(
        survey=survey,
        code="reason",
        order=2,
        type=Question.Type.TEXT,
        text_en="What went wrong?",
        text_de="Was lief schief?",
        show_if_question="nps",
        show_if_operator="lte",
        show_if_value="6",
    )
    return f"{live_server.url}/s/{survey.slug}/?u={store.code}"


def test_browser_reason_question_appears_only_for_a_detractor(page, logic_url):
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    page.goto(logic_url)
    reason = page.locator("#question-reason")
    assert reason.is_hidden()
    page.check("#id_q_nps_3")
    assert reason.is_visible()
    page.fill("textarea[name=q_reason]", "Long queue")
    page.check("#id_q_nps_9")
    assert reason.is_hidden()
    page.click("button[type=submit]")
    page.wait_for_url("**/s/logic/thanks/")
    assert list(Answer.objects.values_list("question__code", flat=True)) == ["nps"]
    assert not [text for text in violations if "Content Security Policy" in text]


def test_browser_german_respondent_sees_the_survey_in_german(browser, logic_url):
    context = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.goto(logic_url)
    assert page.locator("h1").inner_text() == "Besuch"
    assert page.locator("button[type=submit]").inner_text() == "Antworten senden"
    page.check("#id_q_nps_2")
    assert page.locator("#question-reason legend").inner_text().startswith("Was lief schief?")
    context.close()
