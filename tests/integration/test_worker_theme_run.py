"""A real Celery worker on Redis computes a theme run started through the service, once."""

import pytest

from comments.models import CommentTheme, ThemeRun
from comments.services import start_theme_run
from comments.tasks import compute_theme_run_task
from tests.comments.helpers import add_comments, generated, survey_with_comments
from tests.factories import OrgUnitFactory
from tests.integration.services import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_themes_the_comments_once_when_the_task_is_delivered_twice(worker):
    survey, _, _ = survey_with_comments(employee=True)
    pairs, _ = generated(200, seed=7, audience="employee")
    add_comments(survey, OrgUnitFactory(), pairs)
    run = start_theme_run(survey=survey, first_period="2026-01", last_period="2026-01")

    def finished() -> bool:
        run.refresh_from_db()
        return run.status in (ThemeRun.Status.DONE, ThemeRun.Status.FAILED)

    wait_for(finished, 60.0)
    assert run.status == ThemeRun.Status.DONE, run.error
    assert run.comment_count == 200
    themes = run.themes.count()
    compute_theme_run_task.delay(run.pk).get(timeout=30)
    assert run.themes.count() == themes
    assert CommentTheme.objects.filter(run=run).count() == 200
