"""One answer per person on public links: per browser (signed cookie), per address and
round (configurable per survey), personal invitations single-use."""

import pytest
from django.test import Client

from surveys.models import OrgUnit, Question, Response, Survey
from tests.factories import InvitationFactory, OrgUnitFactory, QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return OrgUnitFactory(code="store-1", level=OrgUnit.Level.STORE)


@pytest.fixture
def visit():
    survey = SurveyFactory(slug="visit", status=Survey.Status.OPEN)
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    return survey


def url(survey: Survey, unit: OrgUnit) -> str:
    return f"/s/{survey.slug}/?u={unit.code}"


def test_public_link_browser_that_answered_sees_already_answered(visit, store):
    browser = Client()
    assert browser.post(url(visit, store), {"q_nps": "9"}).status_code == 302
    again = browser.get(url(visit, store))
    assert again.status_code == 429 and "Already answered" in again.content.decode()
    assert browser.post(url(visit, store), {"q_nps": "3"}).status_code == 429
    assert Response.objects.count() == 1


def test_public_link_cookie_cannot_be_forged_or_reused_across_surveys(visit, store):
    other = SurveyFactory(slug="other", status=Survey.Status.OPEN)
    QuestionFactory(survey=other, code="nps", type=Question.Type.NPS)
    browser = Client()
    assert browser.post(url(visit, store), {"q_nps": "9"}).status_code == 302
    assert browser.get(url(other, store)).status_code == 200
    forged = Client()
    forged.cookies["cxsurvey_answered"] = "unsigned-value"
    assert forged.get(url(visit, store)).status_code == 200


def test_public_link_limits_answers_per_address_with_survey_setting(visit, store, settings):
    settings.PUBLIC_ANSWERS_PER_ADDRESS = 50
    Survey.objects.filter(pk=visit.pk).update(public_answers_per_address=2)
    for _ in range(2):  # fresh browsers, one address
        assert Client().post(url(visit, store), {"q_nps": "9"}).status_code == 302
    refused = Client().post(url(visit, store), {"q_nps": "9"})
    assert refused.status_code == 429 and "Already answered" in refused.content.decode()
    other_address = Client(REMOTE_ADDR="10.0.0.9")
    assert other_address.post(url(visit, store), {"q_nps": "9"}).status_code == 302
    assert Response.objects.count() == 3


def test_public_link_default_address_limit_comes_from_settings(visit, store, settings):
    settings.PUBLIC_ANSWERS_PER_ADDRESS = 1
    assert Client().post(url(visit, store), {"q_nps": "9"}).status_code == 302
    assert Client().post(url(visit, store), {"q_nps": "9"}).status_code == 429


def test_kiosk_survey_takes_many_answers_from_one_browser(visit, store, settings):
    settings.PUBLIC_ANSWERS_PER_ADDRESS = 1
    Survey.objects.filter(pk=visit.pk).update(
        one_answer_per_browser=False, public_answers_per_address=0
    )
    kiosk = Client()
    for _ in range(3):
        assert kiosk.post(url(visit, store), {"q_nps": "9"}).status_code == 302
    assert Response.objects.count() == 3


def test_employee_public_link_never_exceeds_employee_address_ceiling(store, settings):
    settings.EMPLOYEE_PUBLIC_ANSWERS_PER_ADDRESS = 1
    pulse = SurveyFactory(
        slug="pulse",
        audience=Survey.Audience.EMPLOYEE,
        status=Survey.Status.OPEN,
        allow_public_link=True,
        one_answer_per_browser=False,
        public_answers_per_address=0,
    )
    QuestionFactory(survey=pulse, code="enps", type=Question.Type.NPS)
    browser = Client()
    assert browser.post(url(pulse, store), {"q_enps": "9"}).status_code == 302
    assert browser.post(url(pulse, store), {"q_enps": "9"}).status_code == 429
    assert Client().post(url(pulse, store), {"q_enps": "9"}).status_code == 429
    assert Response.objects.count() == 1


def test_invalid_answer_does_not_use_up_the_browser(visit, store):
    browser = Client()
    assert browser.post(url(visit, store), {"q_nps": "11"}).status_code == 200
    assert browser.post(url(visit, store), {"q_nps": "10"}).status_code == 302


def test_personal_invitation_stays_single_use_whatever_the_public_limits(visit, store):
    Survey.objects.filter(pk=visit.pk).update(
        one_answer_per_browser=False, public_answers_per_address=0
    )
    invitation = InvitationFactory(survey=visit, unit=store)
    link = invitation.get_absolute_url()
    assert Client().post(link, {"q_nps": "9"}).status_code == 302
    assert Client().post(link, {"q_nps": "9"}).status_code == 409
    assert Client().get(link).status_code == 409
    assert Response.objects.count() == 1
