"""Theme runs on stored comments: the task, idempotence, names across re-runs, merges, input."""

import pytest

from comments.analysis import OTHER, theme_purity
from comments.exceptions import InvalidThemeRun, ThemesNotMergeable
from comments.models import CommentSentiment, CommentTheme, Theme, ThemeRun
from comments.services import (
    compute_theme_run,
    merge_themes,
    queue_due_theme_runs,
    rename_theme,
    start_theme_run,
)
from comments.tasks import compute_theme_run_task
from surveys.models import Answer
from tests.comments.helpers import add_comments, generated, survey_with_comments
from tests.factories import OrgUnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def themed_survey(db):
    survey, _, _ = survey_with_comments()
    unit = OrgUnitFactory()
    pairs, topics = generated(600, seed=3)
    add_comments(survey, unit, pairs)
    return survey, unit, topics


def _run(survey, django_capture_on_commit_callbacks, **fields) -> ThemeRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = start_theme_run(
            survey=survey,
            first_period=fields.pop("first_period", "2026-01"),
            last_period=fields.pop("last_period", "2026-01"),
            **fields,
        )
    run.refresh_from_db()
    return run


def test_start_theme_run_queues_the_task_on_commit_and_recovers_topics(
    themed_survey, django_capture_on_commit_callbacks
):
    survey, _, topics = themed_survey
    run = _run(survey, django_capture_on_commit_callbacks)
    assert run.status == ThemeRun.Status.DONE
    assert run.comment_count == 600
    themes = list(run.themes.all())
    assert 4 <= len(themes) <= 12
    texts = Answer.objects.filter(question__code="why").order_by("pk")
    text_ids = texts.values_list("pk", flat=True)
    theme_of = dict(CommentTheme.objects.filter(run=run).values_list("answer_id", "theme_id"))
    assignments = [theme_of[pk] if theme_of[pk] is not None else OTHER for pk in text_ids]
    assert theme_purity(assignments, topics) > 0.85
    assert all(len(theme.representatives) == 2 for theme in themes)


def test_start_theme_run_returns_the_pending_run_for_the_same_range(themed_survey):
    survey, _, _ = themed_survey
    first = start_theme_run(survey=survey, first_period="2026-01", last_period="2026-01")
    again = start_theme_run(survey=survey, first_period="2026-01", last_period="2026-01")
    assert again.pk == first.pk
    assert ThemeRun.objects.count() == 1


def test_compute_theme_run_twice_writes_once(themed_survey):
    survey, _, _ = themed_survey
    run = ThemeRun.objects.create(survey=survey, first_period="2026-01", last_period="2026-01")
    compute_theme_run_task(run.pk)
    counts = (Theme.objects.count(), CommentTheme.objects.count(), CommentSentiment.objects.count())
    compute_theme_run_task(run.pk)
    compute_theme_run(run.pk)
    assert (Theme.objects.count(), CommentTheme.objects.count()) == counts[:2]
    assert CommentSentiment.objects.count() == counts[2] == 600


def test_compute_theme_run_of_a_deleted_run_does_nothing(themed_survey):
    assert compute_theme_run(987654) is None


def test_theme_runs_are_deterministic_for_a_seed(themed_survey, django_capture_on_commit_callbacks):
    survey, _, _ = themed_survey
    first = _run(survey, django_capture_on_commit_callbacks)
    second = _run(survey, django_capture_on_commit_callbacks, mode=ThemeRun.Mode.TFIDF)
    assert second.pk != first.pk
    labels = [run.themes.order_by("number").values_list("label", "size") for run in (first, second)]
    assert list(labels[0]) == list(labels[1])


def test_names_given_by_leaders_survive_a_rerun(themed_survey, django_capture_on_commit_callbacks):
    survey, unit, _ = themed_survey
    first = _run(survey, django_capture_on_commit_callbacks)
    delivery = next(t for t in first.themes.all() if "deliver" in t.label or "late" in t.label)
    rename_theme(theme=delivery, name="Delivery delays")
    pairs, _ = generated(300, seed=4)
    add_comments(survey, unit, pairs, period="2026-02")
    second = _run(survey, django_capture_on_commit_callbacks, last_period="2026-02")
    named = list(second.themes.filter(name="Delivery delays"))
    assert len(named) == 1
    assert set(named[0].top_terms[:5]) & set(delivery.top_terms[:5])
    assert second.themes.exclude(name="").count() == 1


def test_merge_themes_moves_comments_and_later_runs_merge_again(
    themed_survey, django_capture_on_commit_callbacks
):
    survey, _, _ = themed_survey
    first = _run(survey, django_capture_on_commit_callbacks)
    big, small = list(first.themes.order_by("number"))[:2]
    sizes = big.size + small.size
    survivor = merge_themes(themes=[small, big])
    assert survivor.pk == big.pk and survivor.size == sizes
    assert CommentTheme.objects.filter(theme=small).count() == 0
    assert CommentTheme.objects.filter(theme=big).count() == sizes
    small.refresh_from_db()
    assert small.merged_into_id == big.pk
    rename_theme(theme=survivor, name="Merged")
    second = _run(survey, django_capture_on_commit_callbacks)
    assert second.themes.count() == first.themes.count() - 1
    merged = second.themes.get(name="Merged")
    assert merged.size == sizes


def test_merge_themes_refuses_one_theme_or_two_runs(
    themed_survey, django_capture_on_commit_callbacks
):
    survey, _, _ = themed_survey
    first = _run(survey, django_capture_on_commit_callbacks)
    second = _run(survey, django_capture_on_commit_callbacks)
    with pytest.raises(ThemesNotMergeable):
        merge_themes(themes=[first.themes.first()])
    with pytest.raises(ThemesNotMergeable):
        merge_themes(themes=[first.themes.first(), second.themes.first()])


@pytest.mark.parametrize(
    ("first", "last", "mode", "field"),
    [
        ("2026-13", "2026-01", "tfidf", "first_period"),
        ("2026-03", "2026-01", "tfidf", "last_period"),
        ("2026-01", "2026-Q1", "tfidf", "last_period"),
        ("2026-01", "2026-01", "magic", "mode"),
    ],
)
def test_start_theme_run_names_the_bad_field(themed_survey, first, last, mode, field):
    survey, _, _ = themed_survey
    with pytest.raises(InvalidThemeRun) as raised:
        start_theme_run(survey=survey, first_period=first, last_period=last, mode=mode)
    assert field in raised.value.field_errors()
    assert not ThemeRun.objects.exists()


def test_sentiment_scores_english_and_marks_other_languages_not_scored(
    db, django_capture_on_commit_callbacks
):
    survey, _, _ = survey_with_comments()
    unit = OrgUnitFactory()
    add_comments(survey, unit, [(2, "The delivery was terribly late and awful")] * 6)
    add_comments(survey, unit, [(9, "Die Lieferung war schrecklich spät")] * 6, language="de")
    _run(survey, django_capture_on_commit_callbacks)
    labels = dict(
        CommentSentiment.objects.values_list("answer__response__language", "label").distinct()
    )
    assert labels == {"en": "negative", "de": "not_scored"}
    assert CommentSentiment.objects.filter(label="not_scored", compound__isnull=False).count() == 0


def test_sweep_starts_a_run_only_when_comments_changed(
    themed_survey, django_capture_on_commit_callbacks
):
    survey, _, _ = themed_survey
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_due_theme_runs() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_due_theme_runs() == 0
