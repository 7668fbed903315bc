"""The manager's case list, a case closed in the browser, the response-rate page and the
unsubscribe page, at phone and desktop width: no sideways scrolling, no serious or critical
axe violations. Screenshots under test-artifacts/browser/."""

import pytest

from distribution.models import FollowUpCase
from distribution.services.cases import open_follow_up_cases
from surveys.models import Invitation, Question
from surveys.services import issue_invitations, submit_response
from tests.distribution.factories import ContactFactory
from tests.factories import OrgUnitFactory, QuestionFactory, SurveyFactory
from tests.integration.test_browser_workspace import (  # noqa: F401 (fixtures)
    WIDTHS,
    _check,
    _login,
    _user,
    browser,
    open_page,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def story(db):
    region = OrgUnitFactory(code="north", name="North", level="region")
    store = OrgUnitFactory(code="n1", name="N1", parent=region)
    manager = _user("manager")
    manager.managed_units.add(store)
    survey = SurveyFactory(title="Store visit")
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    invitations = issue_invitations(
        survey=survey,
        unit=store,
        contacts=[{"contact": f"c{n}@example.com", "customer_id": f"C{n}"} for n in range(4)],
    )
    answered = [
        submit_response(survey=survey, answers={"nps": score}, token=invitation.token).pk
        for invitation, score in zip(invitations[:3], (2, 4, 9), strict=False)
    ]
    open_follow_up_cases(response_ids=answered)  # what the queued task does
    contact = ContactFactory(email="c3@example.com", unit=store)
    return {"survey": survey, "contact": contact, "invitations": Invitation.objects.count()}


@pytest.mark.parametrize("width", WIDTHS)
def test_browser_manager_works_cases_and_reads_rates(open_page, live_server, story, width):  # noqa: F811
    assert FollowUpCase.objects.count() == 2
    page = open_page(width)
    _login(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/distribution/cases/")
    _check(page, "distribution-cases")
    page.click("table.data tbody a")
    _check(page, "distribution-case")
    page.check("input[name=close-outcome][value=resolved]")
    page.click("button[value=close]")
    page.wait_for_load_state()
    assert "Case closed." in page.content()
    assert FollowUpCase.objects.filter(status="closed").count() == 1
    page.goto(f"{live_server.url}/distribution/rates/?survey={story['survey'].pk}&unit=n1")
    assert "3 of 4" in page.content()
    _check(page, "distribution-rates")


def test_browser_unsubscribe_page(open_page, live_server, story):  # noqa: F811
    from distribution.services.sending import unsubscribe_token

    page = open_page(390)
    page.goto(f"{live_server.url}/distribution/unsubscribe/{unsubscribe_token(story['contact'])}/")
    _check(page, "distribution-unsubscribe")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    story["contact"].refresh_from_db()
    assert story["contact"].unsubscribed
