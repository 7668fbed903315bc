"""Drill-down: a unit's customer responses (filters, pages, export), one response and the
customer's pathway; employee responses are never listed; four clicks from the headline."""

import re

import pytest

from surveys.models import Answer, Question, Response
from surveys.services.scores import recompute_all
from tests.factories import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def _respond(survey, unit, score, *, key="", comment="", period="2026-03", segment=None):
    response = Response.objects.create(
        survey=survey, unit=unit, period=period, respondent_key=key, segment=segment or {}
    )
    nps, text = survey.questions.order_by("order")
    Answer.objects.create(response=response, question=nps, number=score)
    if comment:
        Answer.objects.create(response=response, question=text, text=comment)
    return response


@pytest.fixture
def journeys(org_tree):
    survey = SurveyFactory(title="Store visit")
    QuestionFactory(survey=survey, order=1, metric_key="customer.nps")
    QuestionFactory(survey=survey, order=2, type=Question.Type.TEXT, text="Why?")
    n1, n2, s1, _ = org_tree["stores"]
    first = _respond(survey, n1, 3, key="C-7", comment="Queue far too long", period="2026-01")
    later = _respond(survey, n1, 9, key="C-7", comment="Much better now", period="2026-03")
    elsewhere = _respond(survey, s1, 10, key="C-7", period="2026-02")
    _respond(survey, n2, 8, key="C-9", segment={"product": "loans"})
    employee = SurveyFactory(employee=True)
    QuestionFactory(survey=employee, order=1, metric_key="employee.enps")
    QuestionFactory(survey=employee, order=2, type=Question.Type.TEXT)
    staff = _respond(employee, n1, 2, comment="My manager is unfair")
    recompute_all()
    return {"first": first, "later": later, "elsewhere": elsewhere, "staff": staff}


def _links(page: str, role: str) -> list[str]:
    return re.findall(rf'href="([^"]+)"[^>]*data-role="{role}"', page)


def test_leader_reaches_customer_pathway_in_four_clicks(client, leader, journeys):
    client.force_login(leader)
    page = client.get("/workspace/units/acme/").content.decode()  # the barometer headline
    region = next(u for u in _links(page, "child-link") if u.endswith("/north/"))  # click 1
    page = client.get(region).content.decode()
    store = next(u for u in _links(page, "child-link") if u.endswith("/n1/"))  # click 2
    page = client.get(store).content.decode()
    responses = _links(page, "responses-link")[0]  # click 3
    page = client.get(responses).content.decode()
    first = _links(page, "response-link")[-1]  # click 4: the oldest response
    story = client.get(first).content.decode()
    assert "Queue far too long" in story and "Much better now" in story
    assert 'data-role="pathway"' in story and "Breadcrumb" in story
    assert story.index("Queue far too long") < story.index("Much better now")


def test_responses_never_list_employee_answers(client, leader, journeys):
    client.force_login(leader)
    page = client.get("/workspace/units/acme/responses/").content.decode()
    assert "My manager is unfair" not in page
    assert client.get(f"/workspace/responses/{journeys['staff'].pk}/").status_code == 404


def test_response_filters_band_comment_period_segment(client, leader, journeys):
    client.force_login(leader)
    url = "/workspace/units/acme/responses/"
    detractors = client.get(url, {"band": "detractors"}).content.decode()
    assert "Queue far too long" in detractors and "Much better now" not in detractors
    commented = client.get(url, {"comment": "1"}).content.decode()
    assert commented.count('data-role="response-link"') == 2
    march = client.get(url, {"from": "2026-03", "to": "2026-03"}).content.decode()
    assert march.count('data-role="response-link"') == 2
    loans = client.get(url, {"segment": "product=loans"}).content.decode()
    assert loans.count('data-role="response-link"') == 1
    assert client.get(url, {"from": "March"}).status_code == 400
    assert client.get(url, {"band": "fans"}).status_code == 400


def test_manager_pathway_stays_inside_their_units(client, unit_member, journeys):
    client.force_login(unit_member)
    story = client.get(f"/workspace/responses/{journeys['later'].pk}/").content.decode()
    assert "Queue far too long" in story
    assert f"/workspace/responses/{journeys['elsewhere'].pk}/" not in story  # a South store
    assert client.get(f"/workspace/responses/{journeys['elsewhere'].pk}/").status_code == 404
    assert client.get("/workspace/units/south/responses/").status_code == 403


def test_responses_export_streams_the_filtered_rows_in_scope(client, unit_member, journeys):
    client.force_login(unit_member)
    answer = client.get("/workspace/units/north/responses.export", {"format": "csv"})
    body = b"".join(answer.streaming_content).decode()
    assert answer.status_code == 200
    assert "Queue far too long" in body and "My manager is unfair" not in body
    assert len(body.strip().splitlines()) == 4  # header + three North responses


def test_response_pages_query_counts_are_capped(
    client, leader, journeys, django_assert_max_num_queries
):
    client.force_login(leader)
    with django_assert_max_num_queries(12):
        client.get("/workspace/units/acme/responses/")
    with django_assert_max_num_queries(12):
        client.get(f"/workspace/responses/{journeys['later'].pk}/")


def test_pathway_shows_the_follow_up_case(client, leader, journeys):
    from datetime import timedelta

    from django.utils import timezone

    from distribution.models import FollowUpCase

    first = journeys["first"]
    FollowUpCase.objects.create(
        response=first, survey=first.survey, unit=first.unit, reason="NPS 3",
        due_at=timezone.now() + timedelta(days=2),
    )  # fmt: skip
    client.force_login(leader)
    story = client.get(f"/workspace/responses/{journeys['later'].pk}/").content.decode()
    assert 'data-role="case"' in story and "Open</a>" in story


@pytest.fixture
def many_visits(org_tree):
    """130 responses at n1; ten pairs share a timestamp (the cursor must break ties by id)."""
    from datetime import timedelta

    from django.utils import timezone

    survey = SurveyFactory(title="Visit")
    QuestionFactory(survey=survey, order=1, metric_key="customer.nps")
    QuestionFactory(survey=survey, order=2, type=Question.Type.TEXT, text="Why?")
    start = timezone.now() - timedelta(days=30)
    responses = [_respond(survey, org_tree["stores"][0], index % 11) for index in range(130)]
    for index, response in enumerate(responses):
        response.submitted_at = start + timedelta(minutes=index // 2 if index < 20 else index)
    Response.objects.bulk_update(responses, ["submitted_at"])
    return responses


def _listed_ids(page: str) -> list[int]:
    return [int(url.rstrip("/").rsplit("/", 1)[1]) for url in _links(page, "response-link")]


def _pager_link(page: str, rel: str) -> str | None:
    found = re.search(rf'href="\?([^"]*)" rel="{rel}"', page)
    return found and found.group(1).replace("&amp;", "&")


def test_response_pages_walk_every_response_once_by_cursor_and_back(client, leader, many_visits):
    client.force_login(leader)
    url = "/workspace/units/n1/responses/"
    pages, page = [], client.get(url).content.decode()
    while True:
        pages.append(_listed_ids(page))
        older = _pager_link(page, "next")
        if older is None:
            break
        page = client.get(f"{url}?{older}").content.decode()
    seen = [pk for ids in pages for pk in ids]
    newest_first = sorted(many_visits, key=lambda r: (r.submitted_at, r.pk), reverse=True)
    assert seen == [response.pk for response in newest_first]
    assert [len(ids) for ids in pages] == [50, 50, 30]
    assert "130 responses" in page
    newer = _pager_link(page, "prev")  # back from the last page
    assert _listed_ids(client.get(f"{url}?{newer}").content.decode()) == pages[1]


def test_response_page_cursor_outside_the_listing_is_refused(client, unit_member, journeys):
    client.force_login(unit_member)  # reads North only
    outside = journeys["elsewhere"].pk  # a South response
    answer = client.get("/workspace/units/north/responses/", {"older": outside})
    assert answer.status_code == 400
    assert b"start again from the newest" in answer.content


def test_deep_response_page_costs_the_queries_of_the_first(
    client, leader, many_visits, django_assert_max_num_queries
):
    client.force_login(leader)
    oldest_but_one = sorted(many_visits, key=lambda r: (r.submitted_at, r.pk))[1]
    with django_assert_max_num_queries(12):
        page = client.get("/workspace/units/n1/responses/", {"older": oldest_but_one.pk})
    assert _listed_ids(page.content.decode()) == [
        sorted(many_visits, key=lambda r: (r.submitted_at, r.pk))[0].pk
    ]
