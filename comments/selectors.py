"""Reading open comments: the one rule every page, API answer, export and theme run obeys.

A comment is a non-empty answer to an open-text question. It is readable when:
- its unit lies in the reader's part of the organisation (`surveys.visibility`);
- for an employee or anonymous survey (`Survey.is_confidential`): its response's scores were
  released (`Answer.release`, `surveys.services.releases`), and the group it was released
  with — its answering unit × its release — has at least COMMENT_MIN_RESPONDENTS
  respondents (default 10, separate from the score threshold).

Why groups by answering unit × release: a reader sees the comments of a parent unit and of
its children, and of a unit before and after a later release. If small groups were hidden
only at the child, the parent minus the visible children, or a reading after a release minus
the one before, would show them. Groups that are whole or absent at every level and every
release leave no remainder: any difference of two readings is a union of groups of at least
the minimum. Small teams' comments therefore stay hidden even at region level.

Comments are returned masked (`comments.analysis.mask_personal_data`), in an order that is
random with respect to time (a keyed hash of the answer id) and without time, respondent or
segment: nothing a reader gets places a comment in a sequence of submissions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import CharField, Count, Min, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import MD5, Cast, Concat

from surveys.models import Answer, OrgUnit, Question, Response, Survey
from surveys.visibility import Reader, scoped

from .analysis import mask_personal_data
from .models import CommentSentiment, CommentTheme, Theme, ThemeRun

SCORE_TYPES = (Question.Type.NPS, Question.Type.CSAT)
SEARCH_SCAN = 2000


@dataclass(frozen=True)
class Comment:
    """A comment as any reader gets it: masked text, theme and sentiment; nothing else."""

    text: str
    theme: str
    sentiment: str


def _order_key() -> str:
    """A per-installation key for the comment order (never the secret key itself)."""
    return hashlib.sha256(f"comment-order:{settings.SECRET_KEY}".encode()).hexdigest()[:32]


def score_question(survey: Survey) -> Question | None:
    """The question whose score splits comments into low and high groups: NPS, else CSAT."""
    questions = list(survey.questions.filter(type__in=SCORE_TYPES).order_by("order", "id"))
    for kind in SCORE_TYPES:
        for question in questions:
            if question.type == kind:
                return question
    return None


def _first_release(response_field: str) -> Subquery:
    """The first release that published an answer of the response in `response_field`."""
    released = Answer.objects.filter(response=OuterRef(response_field), release__isnull=False)
    # MIN per response, not ORDER BY … LIMIT 1: with LIMIT the planner walked the release
    # index over every released answer for each response (27 s on the demo, not 0.1 s).
    first = released.order_by().values("response_id").annotate(first=Min("release_id"))
    return Subquery(first.values("first")[:1])


def released_groups(survey: Survey, minimum: int) -> list[tuple[int, int]]:
    """(answering unit id, release id) of the survey's released groups of ≥ `minimum` people.

    A response belongs to the first release that published one of its answers.
    """
    responses = (
        Response.objects.filter(survey=survey)
        .annotate(first_release=_first_release("pk"))
        .filter(first_release__isnull=False)
        .order_by()
        .values("unit_id", "first_release")
        .annotate(people=Count("id"))
        .filter(people__gte=max(minimum, 1))
    )
    return [(row["unit_id"], row["first_release"]) for row in responses]


def readable_responses(survey: Survey) -> QuerySet[Response]:
    """Responses of a confidential survey in released groups of ≥ COMMENT_MIN_RESPONDENTS.

    One key per response (its unit and first release) matched against the list of large
    groups: the release subquery runs once per response, not once per group.
    """
    groups = released_groups(survey, settings.COMMENT_MIN_RESPONDENTS)
    keys = [f"{unit_id}:{release_id}" for unit_id, release_id in groups]
    group_key = Concat(
        Cast("unit_id", CharField()),
        Value(":"),
        Cast(_first_release("pk"), CharField()),
        output_field=CharField(),
    )
    return Response.objects.filter(survey=survey).alias(group=group_key).filter(group__in=keys)


def readable_comments(
    reader: Reader,
    survey: Survey,
    *,
    unit: OrgUnit | None = None,
    periods: tuple[str, str] | None = None,
) -> QuerySet[Answer]:
    """Text answers of `survey` the reader may read (module docstring), in the keyed order.

    `unit` limits them to its subtree, `periods` to an inclusive (first, last) range.
    """
    answers = Answer.objects.filter(
        question__survey=survey, question__type=Question.Type.TEXT
    ).exclude(text__regex=r"^\s*$")
    answers = scoped(answers, reader, field="response__unit")
    if unit is not None:
        answers = answers.filter(response__unit__path__startswith=unit.path)
    if periods is not None:
        answers = answers.filter(response__period__gte=periods[0], response__period__lte=periods[1])
    if survey.is_confidential:
        answers = answers.filter(response_id__in=Subquery(readable_responses(survey).values("pk")))
    order = MD5(Concat(Cast("pk", CharField()), Value(_order_key()), output_field=CharField()))
    return answers.annotate(order_key=order).order_by("order_key")


def with_scores(answers: QuerySet[Answer], survey: Survey) -> QuerySet[Answer]:
    """Annotate `score`: the response's answer to the survey's score question (or None)."""
    question = score_question(survey)
    if question is None:
        return answers.annotate(score=Value(None, output_field=CharField()))
    score = Answer.objects.filter(response=OuterRef("response"), question=question)
    return answers.annotate(score=Subquery(score.values("number")[:1]))


def comments_for_analysis(survey: Survey, periods: tuple[str, str]) -> list[dict[str, Any]]:
    """What a theme run analyses: id, raw text and language of every readable comment.

    Read as the platform (`SYSTEM`) under the same release and group rule as every reader,
    so a theme's label or representatives never come from a comment no one may read. Sorted
    by answer id: the analysis is deterministic for a given set of comments.
    """
    from surveys.visibility import SYSTEM

    answers = readable_comments(SYSTEM, survey, periods=periods)
    rows = answers.order_by("pk").values("pk", "text", "response__language")
    return [dict(row) for row in rows]


def latest_run(survey: Survey) -> ThemeRun | None:
    """The survey's most recent finished theme run."""
    runs = ThemeRun.objects.filter(survey=survey, status=ThemeRun.Status.DONE)
    return runs.order_by("-finished_at", "-pk").first()


def live_themes(run: ThemeRun) -> QuerySet[Theme]:
    """A run's themes that were not merged into another, in their order."""
    return run.themes.filter(merged_into__isnull=True).order_by("number")


def masked_comments(answers: Iterable[Answer]) -> list[str]:
    """Texts of `answers` with personal data masked."""
    return [mask_personal_data(answer.text) for answer in answers]


def comments_page(
    reader: Reader,
    survey: Survey,
    *,
    unit: OrgUnit | None = None,
    theme: Theme | None = None,
    search: str = "",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Comment], int]:
    """One page of readable comments (masked, keyed order) and how many there are in all.

    `theme` keeps those its run assigned to it; `search` those whose masked text contains it
    (a match inside masked personal data does not count: a search cannot confirm an address;
    a search checks at most SEARCH_SCAN matches).
    """
    answers = readable_comments(reader, survey, unit=unit)
    run = theme.run if theme is not None else latest_run(survey)
    if theme is not None:
        answers = answers.filter(pk__in=Subquery(theme.assignments.values("answer_id")))
    assigned = CommentTheme.objects.filter(run=run, answer=OuterRef("pk")).values("theme_id")
    sentiment = CommentSentiment.objects.filter(answer=OuterRef("pk")).values("label")
    answers = answers.annotate(
        theme_id=Subquery(assigned[:1]), sentiment_label=Subquery(sentiment[:1])
    )
    rows = answers.values_list("text", "theme_id", "sentiment_label")
    if search:
        needle = search.casefold()
        matches = rows.filter(text__icontains=search)[:SEARCH_SCAN]
        found = [(mask_personal_data(t), i, s) for t, i, s in matches]
        found = [row for row in found if needle in row[0].casefold()]
        total, page = len(found), found[offset : offset + limit]
    else:
        total = answers.count()
        page = [(mask_personal_data(t), i, s) for t, i, s in rows[offset : offset + limit]]
    names = _theme_names(run)
    comments = [
        Comment(
            text=text,
            theme=names.get(theme_id, "other") if theme_id is not None else "other",
            sentiment=label or CommentSentiment.Label.NOT_SCORED,
        )
        for text, theme_id, label in page
    ]
    return comments, total


def _theme_names(run: ThemeRun | None) -> dict[int, str]:
    """Theme id → shown name; a merged theme shows its survivor's name."""
    if run is None:
        return {}
    themes = {theme.pk: theme for theme in run.themes.all()}
    names = {}
    for theme_id, theme in themes.items():
        survivor = theme
        while survivor.merged_into_id is not None and survivor.merged_into_id in themes:
            survivor = themes[survivor.merged_into_id]
        names[theme_id] = survivor.display_name
    return names
