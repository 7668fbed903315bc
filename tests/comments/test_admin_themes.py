"""Admin of themes: start a run, rename, merge; only for users who read every unit."""

import pytest
from django.urls import reverse

from comments.models import ThemeRun
from comments.services import compute_theme_run
from common.models import AuditEvent
from tests.comments.helpers import add_comments, generated, survey_with_comments
from tests.factories import OrgUnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(db):
    survey, _, _ = survey_with_comments()
    pairs, _ = generated(300, seed=5)
    add_comments(survey, OrgUnitFactory(), pairs)
    run = ThemeRun.objects.create(survey=survey, first_period="2026-01", last_period="2026-01")
    compute_theme_run(run.pk)
    return run


def test_admin_starts_a_theme_run_through_the_service(
    client, owner, run, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    data = {"survey": run.survey.pk, "first_period": "2026-01", "last_period": "2026-01"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:comments_themerun_add"), {**data, "mode": "tfidf"})
    assert response.status_code == 302
    latest = ThemeRun.objects.exclude(pk=run.pk).get()
    assert latest.status == ThemeRun.Status.DONE


def test_admin_theme_run_form_names_a_bad_period(client, owner, run):
    client.force_login(owner)
    data = {"survey": run.survey.pk, "first_period": "2026-05", "last_period": "2026-01"}
    response = client.post(reverse("admin:comments_themerun_add"), {**data, "mode": "tfidf"})
    assert response.status_code == 200
    assert "The last period comes before the first." in response.content.decode()
    assert ThemeRun.objects.count() == 1


def test_admin_renames_a_theme_and_audits_it(client, owner, run):
    client.force_login(owner)
    theme = run.themes.first()
    url = reverse("admin:comments_theme_change", args=[theme.pk])
    assert client.post(url, {"name": "Delivery delays"}).status_code == 302
    theme.refresh_from_db()
    assert theme.display_name == "Delivery delays"
    assert AuditEvent.objects.filter(action="comments.theme_renamed").exists()


def test_admin_merge_action_merges_selected_themes(client, owner, run):
    client.force_login(owner)
    first, second = run.themes.order_by("number")[:2]
    response = client.post(
        reverse("admin:comments_theme_changelist"),
        {"action": "merge_selected", "_selected_action": [first.pk, second.pk]},
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.merged_into_id == first.pk


def test_admin_themes_hidden_from_unit_managers(client, unit_member, run):
    client.force_login(unit_member)
    assert client.get(reverse("admin:comments_theme_changelist")).status_code == 403


def test_admin_pages_of_runs_and_themes_render(client, owner, run):
    client.force_login(owner)
    for name, args in (
        ("admin:comments_themerun_changelist", []),
        ("admin:comments_themerun_change", [run.pk]),
        ("admin:comments_themerun_add", []),
        ("admin:comments_theme_changelist", []),
    ):
        assert client.get(reverse(name, args=args)).status_code == 200, name
