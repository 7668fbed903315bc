"""Blank public-link pages are rendered once and handed out with each visitor's CSRF token."""

import re

import pytest
from django.db import connection
from django.test import Client

from surveys import definition as definitions
from surveys import respondent_cache
from surveys.models import Answer, DirtyScoreCell, OrgUnit, Response
from surveys.respondent_cache import CSRF_SLOT, PAGE_ENTRIES
from tests.surveys.test_respondent_pages import VALID_ANSWERS, public_url, store, survey  # noqa: F401

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def page_token(html: str) -> str:
    return TOKEN.search(html).group(1)


def kept_pages(of_survey) -> dict[str, str]:
    return respondent_cache._kept_for(definitions.definition_for_slug(of_survey.slug)).pages


def test_each_visitor_of_a_kept_page_gets_a_token_that_only_their_browser_can_post_with(
    survey,  # noqa: F811
    store,  # noqa: F811
):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_page = first.get(public_url(survey, store)).content.decode()
    second_page = second.get(public_url(survey, store)).content.decode()
    assert CSRF_SLOT not in first_page + second_page
    assert page_token(first_page) != page_token(second_page)
    assert TOKEN.sub("", first_page) == TOKEN.sub("", second_page)  # the rest is one page
    swapped = {**VALID_ANSWERS, "csrfmiddlewaretoken": page_token(first_page)}
    assert second.post(public_url(survey, store), swapped).status_code == 403
    own = {**VALID_ANSWERS, "csrfmiddlewaretoken": page_token(second_page)}
    assert second.post(public_url(survey, store), own).status_code == 302
    assert Response.objects.count() == 1


def test_a_kept_page_is_served_without_any_query_while_its_survey_is_unchanged(
    survey,  # noqa: F811
    store,  # noqa: F811
    django_assert_num_queries,
):
    Client().get(public_url(survey, store))
    definitions.forget_local_definitions()  # the process copy expired; the shared one is kept
    with django_assert_num_queries(0):
        again = Client().get(public_url(survey, store))
    assert again.status_code == 200 and "Main Street" in again.content.decode()


def test_a_unit_renamed_elsewhere_reaches_the_page_once_kept_pages_expire(
    survey,  # noqa: F811
    store,  # noqa: F811
    monkeypatch,
):
    Client().get(public_url(survey, store))
    OrgUnit.objects.filter(pk=store.pk).update(name="High Street")  # as another process would
    assert "Main Street" in Client().get(public_url(survey, store)).content.decode()
    later = respondent_cache.monotonic() + respondent_cache.KEPT_SECONDS + 1
    monkeypatch.setattr(respondent_cache, "monotonic", lambda: later)
    assert "High Street" in Client().get(public_url(survey, store)).content.decode()


@pytest.mark.parametrize(
    ("edited", "field", "text"),
    [("survey", "title", "Your visit today"), ("store", "name", "High Street")],
)
def test_an_edit_saved_in_this_process_reaches_kept_pages_at_once(
    survey,  # noqa: F811
    store,  # noqa: F811
    edited,
    field,
    text,
):
    Client().get(public_url(survey, store))
    row = {"survey": survey, "store": store}[edited]
    setattr(row, field, text)
    row.save()
    assert text in Client().get(public_url(survey, store)).content.decode()


def test_made_up_query_parameters_are_answered_but_never_kept(
    survey,  # noqa: F811
    store,  # noqa: F811
):
    for number in range(3):
        page = Client().get(public_url(survey, store, ref=f"campaign-{number}"))
        assert page.status_code == 200 and "Main Street" in page.content.decode()
    assert kept_pages(survey) == {}
    Client().get(public_url(survey, store, lang="en"))
    assert len(kept_pages(survey)) == 1


def test_kept_pages_stop_growing_at_their_limit(
    survey,  # noqa: F811
    store,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setattr("surveys.respondent_cache.PAGE_ENTRIES", 1)
    Client().get(public_url(survey, store))
    Client().get(public_url(survey, store, lang="en"))
    assert len(kept_pages(survey)) == 1 < PAGE_ENTRIES


def test_a_page_in_another_language_is_kept_apart(
    survey,  # noqa: F811
    store,  # noqa: F811
):
    survey.languages = ["en", "es"]
    survey.save()
    english = Client().get(public_url(survey, store), HTTP_ACCEPT_LANGUAGE="en")
    spanish = Client().get(public_url(survey, store), HTTP_ACCEPT_LANGUAGE="es")
    assert english["Content-Language"] == "en" and spanish["Content-Language"] == "es"
    assert 'lang="es"' in spanish.content.decode()
    assert TOKEN.sub("", english.content.decode()) != TOKEN.sub("", spanish.content.decode())
    assert len(kept_pages(survey)) == 2


def test_a_deleted_unit_is_forgotten_at_once_by_its_process(
    survey,  # noqa: F811
    store,  # noqa: F811
):
    assert Client().get(public_url(survey, store)).status_code == 200
    store.delete()
    gone = Client().post(public_url(survey, store), VALID_ANSWERS)
    assert gone.status_code == 400 and not Response.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_unit_deleted_by_another_process_is_refused_as_unknown_and_nothing_is_written(
    survey,  # noqa: F811
    store,  # noqa: F811
):
    assert Client().get(public_url(survey, store)).status_code == 200  # the unit is kept here
    with connection.cursor() as cursor:  # as another process would: no signal reaches this one
        cursor.execute(f"DELETE FROM {OrgUnit._meta.db_table} WHERE id = %s", [store.pk])
    refused = Client().post(public_url(survey, store), VALID_ANSWERS)
    assert refused.status_code == 400
    assert not Response.objects.exists() and not Answer.objects.exists()
    assert not DirtyScoreCell.objects.exists()
