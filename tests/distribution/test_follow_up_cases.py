from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from distribution.exceptions import CaseClosed
from distribution.models import Contact, FollowUpCase
from distribution.selectors import case_figures, cases_for
from distribution.services.cases import close_case, update_case
from surveys.models import Question
from surveys.services import issue_invitations, submit_response
from tests.distribution.factories import ContactFactory
from tests.factories import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey():
    survey = SurveyFactory()
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    QuestionFactory(survey=survey, code="csat", type=Question.Type.CSAT, required=False)
    return survey


def _answer(survey, unit, capture, *, contact="ann@example.com", **answers):
    (invitation,) = issue_invitations(
        survey=survey, unit=unit, contacts=[{"contact": contact, "customer_id": "C1"}]
    )
    with capture(execute=True):
        return submit_response(survey=survey, answers=answers, token=invitation.token)


def test_detractor_with_contact_opens_a_case_for_the_unit_manager(
    survey, org_tree, unit_member, django_capture_on_commit_callbacks
):
    store = org_tree["stores"][0]
    store.managers.add(unit_member)
    response = _answer(survey, store, django_capture_on_commit_callbacks, nps=3)

    case = FollowUpCase.objects.get()
    assert (case.response, case.unit, case.customer_id) == (response, store, "C1")
    assert (case.contact, case.reason, case.status) == ("ann@example.com", "NPS 3", "open")
    assert case.owner == unit_member
    sla = case.due_at - case.created_at
    assert timedelta(hours=47, minutes=59) < sla <= timedelta(hours=48)


@pytest.mark.parametrize(
    ("answers", "cases"),
    [({"nps": 7}, 0), ({"nps": 9, "csat": 2}, 1), ({"nps": 9, "csat": 3}, 0), ({"nps": 0}, 1)],
)
def test_case_opens_only_for_detractors_and_low_csat(
    survey, org_tree, django_capture_on_commit_callbacks, answers, cases
):
    _answer(survey, org_tree["stores"][0], django_capture_on_commit_callbacks, **answers)
    assert FollowUpCase.objects.count() == cases


def test_no_case_for_a_customer_who_unsubscribed_or_cannot_be_contacted(
    survey, org_tree, django_capture_on_commit_callbacks
):
    store = org_tree["stores"][0]
    ContactFactory(email="ann@example.com", unit=store, unsubscribed=True)
    _answer(survey, store, django_capture_on_commit_callbacks, nps=2)
    with django_capture_on_commit_callbacks(execute=True):
        submit_response(survey=survey, answers={"nps": 1}, unit=store)  # public link, no one
    assert FollowUpCase.objects.count() == 0


def test_never_a_case_for_employee_surveys(org_tree, django_capture_on_commit_callbacks):
    pulse = SurveyFactory(employee=True)
    QuestionFactory(survey=pulse, code="enps", type=Question.Type.NPS)
    _answer(pulse, org_tree["stores"][0], django_capture_on_commit_callbacks, enps=0)
    assert FollowUpCase.objects.count() == 0


def test_case_task_twice_opens_one_case(survey, org_tree, django_capture_on_commit_callbacks):
    from distribution.tasks import open_follow_up_cases_task

    response = _answer(survey, org_tree["stores"][0], django_capture_on_commit_callbacks, nps=1)
    open_follow_up_cases_task.delay([response.pk])
    assert FollowUpCase.objects.count() == 1


def _case(survey, store, capture):
    _answer(survey, store, capture, nps=2)
    return FollowUpCase.objects.get()


def test_overdue_case_is_flagged_and_closing_records_sla(
    survey, org_tree, unit_member, django_capture_on_commit_callbacks
):
    case = _case(survey, org_tree["stores"][0], django_capture_on_commit_callbacks)
    FollowUpCase.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(hours=1))
    case.refresh_from_db()
    assert case.is_overdue()
    assert list(cases_for(unit_member, overdue=True)) == [case]

    closed = close_case(case=case, user=unit_member, outcome="resolved", note="Called back.")
    assert (closed.status, closed.outcome, closed.closed_within_sla) == (
        "closed",
        "resolved",
        False,
    )
    assert not closed.is_overdue()
    assert "manager: Called back." in closed.notes
    with pytest.raises(CaseClosed):
        update_case(case=closed, user=unit_member, note="again")
    (row,) = case_figures(unit_member)
    assert (row["cases"], row["closed"], row["within_sla"], row["overdue"]) == (1, 1, 0, 0)
    assert row["within_sla_share"] == 0.0 and row["mean_hours_to_close"] >= 0


def test_case_figures_share_closed_within_sla(
    survey, org_tree, unit_member, django_capture_on_commit_callbacks
):
    store = org_tree["stores"][0]
    for contact in ("a@example.com", "b@example.com", "c@example.com"):
        _answer(survey, store, django_capture_on_commit_callbacks, nps=1, contact=contact)
    first, second, third = FollowUpCase.objects.order_by("pk")
    close_case(case=first, user=unit_member, outcome="resolved")
    FollowUpCase.objects.filter(pk=second.pk).update(due_at=timezone.now() - timedelta(hours=2))
    second.refresh_from_db()
    close_case(case=second, user=unit_member, outcome="not_reached")
    (row,) = case_figures(unit_member)
    assert (row["cases"], row["open"], row["closed"], row["within_sla"]) == (3, 1, 2, 1)
    assert row["within_sla_share"] == 50.0


def test_case_list_is_scoped_to_the_managers_units(
    client, survey, org_tree, unit_member, django_capture_on_commit_callbacks
):
    north_store, south_store = org_tree["stores"][0], org_tree["stores"][2]
    _answer(survey, north_store, django_capture_on_commit_callbacks, nps=1, contact="n@x.com")
    _answer(survey, south_store, django_capture_on_commit_callbacks, nps=1, contact="s@x.com")
    north_case = FollowUpCase.objects.get(unit=north_store)
    south_case = FollowUpCase.objects.get(unit=south_store)

    client.force_login(unit_member)
    page = client.get("/distribution/cases/")
    assert page.status_code == 200
    assert f"#{north_case.pk}<" in page.content.decode()
    assert f"#{south_case.pk}<" not in page.content.decode()
    assert client.get(f"/distribution/cases/{south_case.pk}/").status_code == 404
    with pytest.raises(PermissionDenied):
        close_case(case=south_case, user=unit_member, outcome="resolved")


def test_manager_closes_a_case_from_the_case_page(
    client, survey, org_tree, unit_member, django_capture_on_commit_callbacks
):
    case = _case(survey, org_tree["stores"][0], django_capture_on_commit_callbacks)
    client.force_login(unit_member)
    page = client.post(
        f"/distribution/cases/{case.pk}/", {"action": "update", "note": "Left a voicemail."}
    )
    assert page.status_code == 302
    page = client.post(f"/distribution/cases/{case.pk}/", {"action": "close"})
    assert page.status_code == 200 and "This field is required" in page.content.decode()
    page = client.post(
        f"/distribution/cases/{case.pk}/", {"action": "close", "close-outcome": "resolved"}
    )
    assert page.status_code == 302
    case.refresh_from_db()
    assert case.status == "closed" and "Left a voicemail." in case.notes


def test_case_pages_refuse_users_without_a_role(client, outsider):
    client.force_login(outsider)
    assert client.get("/distribution/cases/").status_code == 403
    assert client.get("/distribution/rates/").status_code == 403


def test_erasing_a_customer_erases_their_contact_and_case_details(
    survey, org_tree, django_capture_on_commit_callbacks
):
    from surveys.services.erasure import erase_customer

    store = org_tree["stores"][0]
    ContactFactory(email="ann@example.com", unit=store, customer_id="C1")
    ContactFactory(email="other@example.com", unit=store)
    _answer(survey, store, django_capture_on_commit_callbacks, nps=2)
    erase_customer(customer_id="C1")
    case = FollowUpCase.objects.get()
    assert (case.customer_id, case.contact, case.notes) == ("", "", "")
    assert list(Contact.objects.values_list("email", flat=True)) == ["other@example.com"]


def test_customer_pathway_shows_the_case(
    client, survey, org_tree, unit_member, django_capture_on_commit_callbacks
):
    response = _answer(survey, org_tree["stores"][0], django_capture_on_commit_callbacks, nps=2)
    case = FollowUpCase.objects.get()
    client.force_login(unit_member)
    page = client.get(f"/workspace/responses/{response.pk}/")
    assert page.status_code == 200
    assert f'href="/distribution/cases/{case.pk}/">Case #{case.pk}</a>' in page.content.decode()


def test_imported_detractor_of_a_known_contact_opens_a_case(
    survey, org_tree, django_capture_on_commit_callbacks
):
    from surveys.services import import_responses

    store = org_tree["stores"][0]
    ContactFactory(email="bulk@example.com", unit=store, customer_id="C9")
    rows = [
        {"unit": store, "respondent_key": "C9", "answers": {"nps": 4}},
        {"unit": store, "respondent_key": "C10", "answers": {"nps": 1}},  # no contact known
    ]
    with django_capture_on_commit_callbacks(execute=True):
        import_responses(survey=survey, rows=rows)
    case = FollowUpCase.objects.get()
    assert (case.customer_id, case.contact) == ("C9", "bulk@example.com")


def test_anonymous_public_answer_queues_no_case_task(
    survey, org_tree, django_capture_on_commit_callbacks
):
    # Nobody can be called back for a public-link answer without a customer, so it costs
    # neither a broker round trip on its request nor a task in the worker.
    store = org_tree["stores"][0]
    with django_capture_on_commit_callbacks() as anonymous:
        submit_response(survey=survey, answers={"nps": 1}, unit=store)
    with django_capture_on_commit_callbacks() as named:
        submit_response(
            survey=survey, answers={"nps": 1}, unit=store, meta={"respondent_key": "C7"}
        )
    assert len(named) == len(anonymous) + 1  # the follow-up check, for the named one only
