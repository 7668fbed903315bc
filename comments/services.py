"""Writes of the comments app: start a theme run, compute it, rename and merge themes.

A run is computed in one transaction (`compute_theme_run`): the run row is locked, its
themes, each comment's theme and each comment's sentiment are written, and the run is marked
done, or nothing is. Names leaders gave survive re-runs: a new run's themes are matched to
the previous run's by their term signatures (`analysis.match_themes`), a matched theme takes
the previous name, and new themes matched to themes a leader merged are merged again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from common.services import record_event
from surveys import periods as period_labels
from surveys.models import Survey

from . import analysis
from .exceptions import InvalidThemeRun, ThemesNotMergeable
from .models import CommentSentiment, CommentTheme, Theme, ThemeRun
from .selectors import comments_for_analysis, latest_run, readable_comments

Actor = User | AnonymousUser | None


def check_theme_run(*, survey: Survey, first_period: str, last_period: str, mode: str) -> None:
    """Raise InvalidThemeRun naming each bad field (periods, their order and kind, mode)."""
    errors: dict[str, list[str]] = {}
    for field, label in (("first_period", first_period), ("last_period", last_period)):
        try:
            period_labels.check_label(label)
        except period_labels.PeriodError as error:
            errors[field] = [str(error)]
    if not errors and period_labels.granularity_of(first_period) != period_labels.granularity_of(
        last_period
    ):
        errors["last_period"] = ["Both periods must be months, or both quarters."]
    elif not errors and first_period > last_period:
        errors["last_period"] = ["The last period comes before the first."]
    if mode not in ThemeRun.Mode.values:
        errors["mode"] = [f"Choose one of: {', '.join(ThemeRun.Mode.values)}."]
    if errors:
        raise InvalidThemeRun(errors)


def start_theme_run(
    *,
    survey: Survey,
    first_period: str,
    last_period: str,
    mode: str = ThemeRun.Mode.TFIDF,
    requested_by: Actor = None,
    enqueue: bool = True,
) -> ThemeRun:
    """A pending run for the survey's comments of the period range, queued after commit.

    A run already pending for the same survey, range and mode is returned instead of a new
    one, so repeated requests (a double click, a sweep) queue one computation.
    `enqueue=False` leaves the computation to the caller (the demo seeder, without a worker).
    """
    check_theme_run(survey=survey, first_period=first_period, last_period=last_period, mode=mode)
    with transaction.atomic():
        pending = ThemeRun.objects.filter(
            survey=survey,
            first_period=first_period,
            last_period=last_period,
            mode=mode,
            status=ThemeRun.Status.PENDING,
        ).first()
        if pending is not None:
            return pending
        run = ThemeRun.objects.create(
            survey=survey,
            first_period=first_period,
            last_period=last_period,
            mode=mode,
            requested_by=requested_by if isinstance(requested_by, User) else None,
        )
        if enqueue:
            # Robust: a run that could not be queued stays pending for the next sweep.
            transaction.on_commit(lambda: _queue(run.pk), robust=True)
    return run


def _queue(run_id: int) -> None:
    from .tasks import compute_theme_run_task

    compute_theme_run_task.delay(run_id)


def compute_theme_run(run_id: int) -> ThemeRun | None:
    """Theme and score the comments of one pending run, in one transaction; idempotent.

    A run that is gone or no longer pending is left alone (another worker did it). Method:
    mask personal data, `analysis.find_themes` (TF-IDF + NMF, k by Calinski-Harabasz, seeded
    by the run's seed) or the semantic mode, VADER sentiment for English comments (language of
    the response, else the survey's first language), then carry names and merges over from
    the survey's previous finished run. A failure marks the run failed with the error.
    """
    try:
        with transaction.atomic():
            run = ThemeRun.objects.select_for_update().filter(pk=run_id).first()
            if run is None or run.status != ThemeRun.Status.PENDING:
                return run
            _compute(run)
            return run
    except Exception as error:
        ThemeRun.objects.filter(pk=run_id, status=ThemeRun.Status.PENDING).update(
            status=ThemeRun.Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise


def _analyse(run: ThemeRun, texts: Sequence[str]) -> analysis.ThemeResult:
    """Themes in COMMENT_THEME_RANGE. Why the platform's range starts at 5, not the core's 3:
    on the demo's comments the Calinski-Harabasz curve is flat between 3 and 5 (within 3 %),
    and which k wins changes with the seed; 3 themes there folded delivery delays into the
    others, while 5 kept the topics apart. Leaders merge themes in the admin more easily than
    they could split them."""
    rng = np.random.default_rng(run.seed)
    theme_range = (settings.COMMENT_THEMES_MIN, settings.COMMENT_THEMES_MAX)
    if run.mode == ThemeRun.Mode.SEMANTIC:
        return analysis.find_semantic_themes(texts, rng=rng, theme_range=theme_range)
    return analysis.find_themes(texts, rng=rng, theme_range=theme_range)


def _compute(run: ThemeRun) -> None:
    survey = run.survey
    rows = comments_for_analysis(survey, (run.first_period, run.last_period))
    texts = [analysis.mask_personal_data(row["text"]) for row in rows]
    result = _analyse(run, texts)
    previous = latest_run(survey)
    names: dict[int, str] = {}
    if previous is not None:
        result, names = _carry_over(previous, result, texts)
    _write_themes(run, rows, result, names)
    _write_sentiment(survey, rows, texts)
    run.status = ThemeRun.Status.DONE
    run.comment_count = len(rows)
    run.k_scores = [list(pair) for pair in result.k_scores]
    run.warnings = list(result.warnings)
    run.finished_at = timezone.now()
    run.save()


def _carry_over(
    previous: ThemeRun, result: analysis.ThemeResult, texts: Sequence[str]
) -> tuple[analysis.ThemeResult, dict[int, str]]:
    """Fold themes that match the same previous theme; names by current theme id."""
    old = list(previous.themes.order_by("number"))
    position = {theme.pk: index for index, theme in enumerate(old)}
    merged_into = {
        position[theme.pk]: position[theme.merged_into_id]
        for theme in old
        if theme.merged_into_id in position
    }
    signatures = [analysis.ThemeSignature.from_dict(theme.signature) for theme in old]
    current = [theme.signature for theme in result.themes]
    matches = analysis.match_themes(signatures, current, merged_into=merged_into)
    ids = [theme.theme_id for theme in result.themes]
    merges = {ids[c]: ids[t] for c, t in analysis.merges_for_matches(matches).items()}
    names = {
        ids[index]: old[match].name
        for index, match in matches.items()
        if match is not None and old[match].name and ids[index] not in merges
    }
    if merges:
        result = analysis.merge_themes(result, merges, texts)
    return result, names


def _write_themes(
    run: ThemeRun, rows: list[dict[str, Any]], result: analysis.ThemeResult, names: dict[int, str]
) -> None:
    created = Theme.objects.bulk_create(
        Theme(
            run=run,
            number=number,
            label=theme.label[:200],
            name=names.get(theme.theme_id, ""),
            top_terms=list(theme.terms),
            signature=theme.signature.as_dict(),
            size=theme.size,
            representatives=[rows[index]["pk"] for index in theme.representatives],
        )
        for number, theme in enumerate(result.themes, start=1)
    )
    by_id = {theme.theme_id: row for theme, row in zip(result.themes, created, strict=True)}
    column = {theme.theme_id: index for index, theme in enumerate(result.themes)}
    assignments = []
    for index, (row, theme_id) in enumerate(zip(rows, result.assignments, strict=True)):
        theme = by_id.get(int(theme_id))
        strength = float(result.strengths[index, column[int(theme_id)]]) if theme else 0.0
        assignments.append(
            CommentTheme(run=run, answer_id=row["pk"], theme=theme, strength=strength)
        )
    CommentTheme.objects.bulk_create(assignments, batch_size=2000)


def _write_sentiment(survey: Survey, rows: list[dict[str, Any]], texts: Sequence[str]) -> None:
    default = (survey.languages or [settings.LANGUAGE_CODE])[0]
    languages = [row["response__language"] or None for row in rows]
    scores = analysis.score_sentiment(texts, languages, default_language=default)
    CommentSentiment.objects.bulk_create(
        [
            CommentSentiment(
                answer_id=row["pk"],
                compound=None if np.isnan(value) else float(value),
                label=label,
            )
            for row, value, label in zip(rows, scores.compound, scores.labels, strict=True)
        ],
        update_conflicts=True,
        unique_fields=["answer"],
        update_fields=["compound", "label"],
        batch_size=2000,
    )


def rename_theme(*, theme: Theme, name: str, renamed_by: Actor = None) -> Theme:
    """Give a theme a name (blank: back to its label); audited."""
    with transaction.atomic():
        theme.name = name.strip()[:120]
        theme.save(update_fields=["name"])
        record_event(renamed_by, "comments.theme_renamed", theme.label, {"name": theme.name})
    return theme


def merge_themes(*, themes: Sequence[Theme], merged_by: Actor = None) -> Theme:
    """Merge themes of one run into the largest: its comments, size and signature.

    The others keep their rows, marked `merged_into`, so later runs fold their successors
    into the survivor too. The survivor keeps its label and name (or takes the first name
    given among the merged). Raises ThemesNotMergeable for fewer than two themes or more
    than one run.
    """
    live = [theme for theme in themes if theme.merged_into_id is None]
    if len(live) < 2 or len({theme.run_id for theme in live}) != 1:
        raise ThemesNotMergeable()
    with transaction.atomic():
        survivor, *others = sorted(live, key=lambda theme: (-theme.size, theme.number))
        totals: dict[str, float] = {}
        for theme in live:
            for term, weight in theme.signature.items():
                totals[term] = totals.get(term, 0.0) + theme.size * weight
        signature = analysis.ThemeSignature.from_dict(totals)
        survivor.signature = signature.as_dict()
        survivor.size = sum(theme.size for theme in live)
        survivor.name = survivor.name or next((t.name for t in others if t.name), "")
        survivor.save(update_fields=["signature", "size", "name"])
        ids = [theme.pk for theme in others]
        Theme.objects.filter(Q(pk__in=ids) | Q(merged_into_id__in=ids)).update(merged_into=survivor)
        CommentTheme.objects.filter(theme_id__in=ids).update(theme=survivor)
        details = {"run_id": survivor.run_id, "merged": [theme.label for theme in others]}
        record_event(merged_by, "comments.themes_merged", survivor.label, details)
    return survivor


def queue_due_theme_runs() -> int:
    """Periodic sweep: a run for each survey whose readable comments changed since its last
    run (over all its periods with comments). Returns how many runs were started."""
    from surveys.visibility import SYSTEM

    started = 0
    surveys = Survey.objects.exclude(status=Survey.Status.DRAFT).filter(questions__type="text")
    for survey in surveys.distinct().order_by("pk"):
        comments = readable_comments(SYSTEM, survey).order_by()
        found = list(comments.values_list("response__period", flat=True).distinct())
        if not found:
            continue
        first, last = min(found), max(found)
        previous = latest_run(survey)
        count = comments.count()
        if previous and (previous.first_period, previous.last_period, previous.comment_count) == (
            first,
            last,
            count,
        ):
            continue
        start_theme_run(survey=survey, first_period=first, last_period=last)
        started += 1
    return started
