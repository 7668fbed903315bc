"""Themes of a unit as a reader sees them: shares among low vs high scorers, q-values, trend,
representative comments. Everything is computed from the comments `selectors` lets the reader
read (their units, released groups of at least COMMENT_MIN_RESPONDENTS), so a unit manager's
figures and examples never include another unit's comments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db.models import OuterRef, Subquery

from surveys.models import Answer, OrgUnit, Question, Survey
from surveys.visibility import Reader

from . import analysis
from .models import CommentTheme, Theme, ThemeRun
from .selectors import latest_run, live_themes, readable_comments, score_question

SIGNIFICANT_Q = 0.05
SEPARATING_THEMES = 3


@dataclass(frozen=True)
class ThemeRow:
    """One theme in a unit: size, contrast of low vs high scorers, trend and examples."""

    theme_id: int
    name: str
    label: str
    terms: list[str]
    count: int
    share: float | None
    contrast: analysis.ThemeContrast
    trend: list[tuple[str, float | None]]
    representatives: list[str]


@dataclass(frozen=True)
class UnitThemes:
    survey: Survey
    unit: OrgUnit
    run: ThemeRun | None
    groups: analysis.ScoreGroups
    comment_count: int = 0
    rows: list[ThemeRow] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)

    @property
    def separating(self) -> list[ThemeRow]:
        """Up to three themes the low group raises significantly more than the high group."""
        raised = [
            row
            for row in self.rows
            if row.contrast.q_value is not None
            and row.contrast.q_value < SIGNIFICANT_Q
            and (row.contrast.difference or 0) > 0
        ]
        raised.sort(key=lambda row: (row.contrast.q_value, -(row.contrast.difference or 0)))
        return raised[:SEPARATING_THEMES]


def score_groups(survey: Survey) -> analysis.ScoreGroups:
    """Detractors vs promoters for NPS (eNPS: employee wording), low vs high for CSAT."""
    question = score_question(survey)
    if question is not None and question.type == Question.Type.CSAT:
        return analysis.CSAT_GROUPS
    return analysis.NPS_GROUPS


def _assignments(
    reader: Reader, survey: Survey, unit: OrgUnit, run: ThemeRun, span: tuple[str, str]
) -> list[tuple]:
    """(answer id, theme id or None, strength, period, score) of readable comments in the run
    and the periods `span`."""
    readable = readable_comments(reader, survey, unit=unit, periods=span).order_by()
    rows = CommentTheme.objects.filter(run=run, answer_id__in=Subquery(readable.values("pk")))
    question = score_question(survey)
    score = Answer.objects.filter(response=OuterRef("answer__response"), question=question)
    rows = rows.annotate(score=Subquery(score.values("number")[:1]))
    fields = ["answer_id", "theme_id", "strength", "answer__response__period", "score"]
    return list(rows.order_by("answer_id").values_list(*fields))


def unit_themes(
    reader: Reader,
    survey: Survey,
    unit: OrgUnit,
    *,
    run: ThemeRun | None = None,
    periods: tuple[str | None, str | None] = (None, None),
) -> UnitThemes:
    """The themes of `unit`'s subtree in the run (default: the survey's latest finished run),
    over its periods or the part of them between `periods` (inclusive; None: no bound)."""
    run = run or latest_run(survey)
    groups = score_groups(survey)
    if run is None:
        return UnitThemes(survey=survey, unit=unit, run=None, groups=groups)
    themes = list(live_themes(run))
    span = (max(run.first_period, periods[0] or ""), min(run.last_period, periods[1] or "~"))
    rows = _assignments(reader, survey, unit, run, span)
    if not rows:
        return UnitThemes(survey=survey, unit=unit, run=run, groups=groups)
    ids = np.array([row[1] if row[1] is not None else analysis.OTHER for row in rows])
    scores = np.array([np.nan if row[4] is None else row[4] for row in rows], dtype=float)
    minimum = settings.COMMENT_MIN_RESPONDENTS
    names = {theme.pk: theme.display_name for theme in themes}
    contrasts = analysis.contrast_themes(ids, scores, names, groups=groups, min_group_size=minimum)
    labels = [row[3] for row in rows]
    trends = analysis.theme_trends([0] * len(rows), labels, ids, min_group_size=minimum)
    examples = _representatives(rows, themes)
    table = []
    for theme, contrast in zip(themes, contrasts, strict=True):
        count = int(np.sum(ids == theme.pk))
        table.append(
            ThemeRow(
                theme_id=theme.pk,
                name=theme.display_name,
                label=theme.label,
                terms=list(theme.top_terms[:6]),
                count=count,
                share=100.0 * count / len(rows),
                contrast=contrast,
                trend=_trend(trends, theme.pk),
                representatives=examples.get(theme.pk, []),
            )
        )
    table.sort(key=lambda row: -row.count)
    return UnitThemes(
        survey=survey,
        unit=unit,
        run=run,
        groups=groups,
        comment_count=len(rows),
        rows=table,
        periods=[str(label) for label in trends.periods],
    )


def _trend(trends: analysis.ThemeTrends, theme_id: int) -> list[tuple[str, float | None]]:
    """(period, share in percent or None when the period is suppressed or has no comments)."""
    if theme_id not in trends.theme_ids:
        return [(str(period), 0.0) for period in trends.periods]
    column = trends.theme_ids.index(theme_id)
    shares = trends.shares[0, :, column]
    return [
        (str(period), None if np.isnan(share) else float(share))
        for period, share in zip(trends.periods, shares, strict=True)
    ]


def _representatives(
    rows: list[tuple], themes: list[Theme], count: int = 2
) -> dict[int, list[str]]:
    """Masked texts of each theme's strongest readable comments with distinct wording."""
    candidates: dict[int, list[tuple[float, int]]] = {}
    for answer_id, theme_id, strength, _, _ in rows:
        if theme_id is not None:
            candidates.setdefault(theme_id, []).append((strength, answer_id))
    chosen = {
        theme.pk: [pk for _, pk in sorted(candidates.get(theme.pk, []), reverse=True)[: count * 4]]
        for theme in themes
    }
    wanted = {pk for pks in chosen.values() for pk in pks}
    texts = dict(Answer.objects.filter(pk__in=wanted).values_list("pk", "text"))
    examples: dict[int, list[str]] = {}
    for theme_id, pks in chosen.items():
        seen: list[str] = []
        for pk in pks:
            text = analysis.mask_personal_data(texts[pk])
            if " ".join(text.lower().split()) not in {" ".join(s.lower().split()) for s in seen}:
                seen.append(text)
            if len(seen) == count:
                break
        examples[theme_id] = seen
    return examples
