"""Straight-lining statistics of whole grids, counted in SQL and additive like every other
cell statistic (`cells.Leaves.grid_counts`, `CellStatistics.grid_counts`).

A grid is every numeric question of one survey sharing a grid name, whatever metric each
row feeds: a respondent straight-lines when they give one identical answer to all of it.
Per answering unit × period the aggregation keeps, by label, the respondents who answered
every item, the straight-liners among them and their answers per item × value — what
`scoring.straight_lining_excess` needs to compare the straight-liners with what independent
answers would give. Labels rather than fixed columns: the answer values a grid receives are
only known from the data, and labelled counts add up across batches and units all the same.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, F, Max, Min, Q, QuerySet, Subquery

from .. import scoring
from ..models import Answer, Question, Response

# Questions that cannot be answered with one number per item are never part of a grid's test.
NOT_GRID_ITEMS = (Question.Type.TEXT, Question.Type.MULTI)


@dataclass(frozen=True)
class Grid:
    """A grid of one survey: every numeric question sharing its grid name, whatever metric
    each row feeds. Straight-lining is judged on the whole grid, per respondent."""

    survey_id: int
    name: str
    item_ids: tuple[int, ...]  # sorted question ids

    @property
    def respondents_label(self) -> str:
        return f"{self.item_ids[0]}:respondents"

    @property
    def straight_liners_label(self) -> str:
        return f"{self.item_ids[0]}:straight_liners"


def count_label(question_id: int, value: float) -> str:
    """Label of "answers of `value` to item `question_id`" (by respondents of the whole grid)."""
    return f"{question_id}={float(value)!r}"


def load_grids(keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], Grid]:
    """The whole grids named by (survey id, grid name): all their numeric questions, in one
    query; grids with fewer than STRAIGHT_LINING_MIN_ITEMS such questions are left out."""
    named = {(survey_id, name) for survey_id, name in keys if name}
    if not named:
        return {}
    items: dict[tuple[int, str], list[int]] = {}
    rows = (
        Question.objects.filter(
            survey_id__in={survey_id for survey_id, _ in named},
            grid__in={name for _, name in named},
        )
        .exclude(type__in=NOT_GRID_ITEMS)
        .values_list("survey_id", "grid", "id")
    )
    for survey_id, name, question_id in rows:
        if (survey_id, name) in named:
            items.setdefault((survey_id, name), []).append(question_id)
    return {
        key: Grid(survey_id=key[0], name=key[1], item_ids=tuple(sorted(ids)))
        for key, ids in items.items()
        if len(ids) >= scoring.STRAIGHT_LINING_MIN_ITEMS
    }


@dataclass(frozen=True)
class GridScope:
    """Which answers count: released ones only (`confidential`), in `periods`, of
    `response_ids`, without the responses in `pending` (None: no such filter)."""

    confidential: bool
    periods: list[str] | None = None
    response_ids: list[int] | None = None
    pending: QuerySet | None = None

    def answers(self, grid: Grid) -> QuerySet[Answer]:
        answers = Answer.objects.filter(question_id__in=grid.item_ids, number__isnull=False)
        if self.confidential:
            answers = answers.filter(release__isnull=False)
        if self.periods is not None:
            answers = answers.filter(response__period__in=self.periods)
        if self.response_ids is not None:
            answers = answers.filter(response_id__in=self.response_ids)
        if self.pending is not None:
            answers = answers.exclude(response_id__in=Subquery(self.pending))
        return answers


def grid_statistics(
    grids: Iterable[Grid], rows: list[tuple[int, str]], scope: GridScope
) -> tuple[tuple[str, ...], np.ndarray]:
    """Labelled statistics of `grids` for the answering unit × period `rows`: respondents
    who answered every item of a grid, the straight-liners among them (one identical answer
    to every item) and their answers per item × value. Returns (labels, rows × labels).

    SQL does the counting: a GROUP BY response (COUNT, MIN, MAX) finds the complete
    respondents and the straight-liners, one GROUP BY (unit, period) counts them and one
    GROUP BY (unit, period, item, value) counts their answers: two queries per grid.
    Respondents of a unit × period not in `rows` (none of the metric's own answers) are
    left out.
    """
    position = {key: row for row, key in enumerate(rows)}
    entries: dict[str, dict[int, float]] = {}

    def add(label: str, key: tuple[int, str], count: int) -> None:
        row = position.get(key)
        if row is not None and count:
            entries.setdefault(label, {})[row] = float(count)

    for grid in grids:
        answers = scope.answers(grid)
        complete = (
            answers.values("response_id")
            .annotate(items=Count("id"), low=Min("number"), high=Max("number"))
            .filter(items=len(grid.item_ids))
        )
        straight = complete.filter(low=F("high")).values("response_id")
        complete_ids = complete.values("response_id")
        for unit_id, period, count, lined in (
            Response.objects.filter(pk__in=Subquery(complete_ids))
            .values_list("unit_id", "period")
            .annotate(n=Count("id"), lined=Count("id", filter=Q(pk__in=Subquery(straight))))
            .order_by()
        ):
            add(grid.respondents_label, (unit_id, period), count)
            add(grid.straight_liners_label, (unit_id, period), lined)
        for unit_id, period, question_id, value, count in (
            answers.filter(response_id__in=Subquery(complete_ids))
            .values_list("response__unit_id", "response__period", "question_id", "number")
            .annotate(n=Count("id"))
            .order_by()
        ):
            add(count_label(question_id, value), (unit_id, period), count)
    labels = tuple(sorted(entries))
    counts = np.zeros((len(rows), len(labels)))
    for column, label in enumerate(labels):
        filled = entries[label]
        counts[list(filled), column] = list(filled.values())
    return labels, counts


def grid_counts(
    grids: Iterable[Grid], labels: tuple[str, ...], columns: np.ndarray
) -> list[scoring.GridCounts]:
    """Each grid's statistics per cell (`scoring.GridCounts`) from labelled columns (cells ×
    labels, as `grid_statistics` returns and the roll-up sums)."""
    at = {label: column for column, label in enumerate(labels)}
    empty = np.zeros(len(columns))
    counts = []
    for grid in grids:
        values: set[float] = set()
        for label in labels:
            item, _, shown = label.partition("=")
            if shown and int(item) in grid.item_ids:
                values.add(float(shown))
        axis = sorted(values)
        item_counts = np.zeros((len(columns), len(grid.item_ids), len(axis)))
        for item_at, question_id in enumerate(grid.item_ids):
            for value_at, answer in enumerate(axis):
                column = at.get(count_label(question_id, answer))
                if column is not None:
                    item_counts[:, item_at, value_at] = columns[:, column]
        respondents, lined = (
            columns[:, at[label]] if label in at else empty
            for label in (grid.respondents_label, grid.straight_liners_label)
        )
        counts.append(scoring.GridCounts(respondents, lined, item_counts))
    return counts
