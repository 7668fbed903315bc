"""Read paths for surveys and the metric store, shared by the admin, pages, the API, exports
and tasks.

Metric values are read through `metric_values`, the one place anonymity masking is applied:
suppressed cells are already stored without value, CI or counts; on top of that, each row
loaded through the selector has value, CI and n set to None and its details emptied, so a
hidden group's size is never shown, not even as a 0. `masked_column` is the same masking for
SQL that reads columns directly (exports, webhooks). Unit scope comes from `visibility`.
Employee (and anonymous) metrics hold released results only: their cells are scored from
released answers (`services.releases`), so every reader here sees a release and nothing
newer, and no live count of a confidential survey's responses is offered
(`surveys_with_counts`).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import numpy as np
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.query import ModelIterable

from . import periods
from .models import Invitation, Metric, MetricValue, OrgUnit, Question, Response, Survey
from .visibility import Reader, managed_paths, reads_every_unit, scoped


def _count_of(queryset: QuerySet, relation: str) -> Coalesce:
    """A correlated COUNT subquery per outer survey row.

    One subquery per relation, because joining responses and questions in one query would
    multiply the rows and need DISTINCT over a large product.
    """
    counted = (
        queryset.filter(**{relation: OuterRef("pk")})
        .order_by()
        .values(relation)
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def surveys_with_counts(queryset: QuerySet[Survey]) -> QuerySet[Survey]:
    """Surveys annotated with `response_count` and `question_count`, without N+1 queries.

    `response_count` is None for employee and anonymous surveys: a live total changes with
    every answer (one more respondent, read before and after), and the total minus the
    released, visible groups leaves the hidden ones. Their respondents are counted only by
    the n of released cells at or above the threshold (`metric_values`).
    """
    confidential = Q(audience=Survey.Audience.EMPLOYEE) | Q(anonymous=True)
    return queryset.select_related("root_unit").annotate(
        response_count=Case(
            When(confidential, then=Value(None)),
            default=_count_of(Response.objects.all(), "survey"),
            output_field=IntegerField(),
        ),
        question_count=_count_of(Question.objects.all(), "survey"),
    )


def individually_listable_responses(queryset: QuerySet[Response]) -> QuerySet[Response]:
    """Responses that may be browsed one by one.

    Leaves out every response to an anonymous survey or an employee survey: a single
    employee response is a group of one, below any anonymity threshold, so those results
    are only shown aggregated (with suppression) on the dashboards.
    """
    hidden = Q(survey__anonymous=True) | Q(survey__audience=Survey.Audience.EMPLOYEE)
    return queryset.exclude(hidden).select_related("survey", "unit")


def period_range_condition(first: str | None, last: str | None, field: str = "period") -> Q:
    """Rows whose period lies in the inclusive range `first`…`last` (either may be None), of
    the range's granularity: months and quarters sort apart as text, so only labels like the
    range's ends are kept."""
    condition = Q()
    if first:
        condition &= Q(**{f"{field}__gte": first})
    if last:
        condition &= Q(**{f"{field}__lte": last})
    if first or last:
        quarters = Q(**{f"{field}__contains": "Q"})
        is_quarter = periods.granularity_of(first or last or "") == periods.QUARTER
        condition &= quarters if is_quarter else ~quarters
    return condition


def unit_by_code(reader: Reader, code: str) -> OrgUnit | None:
    """The unit with `code` if the reader may read it; None alike for unknown and hidden."""
    return scoped(OrgUnit.objects.filter(code=code), reader, field="").first()


def readable_surveys(reader: Reader, *, with_questions: bool = False) -> QuerySet[Survey]:
    """Surveys the reader may read, newest first, with counts (and questions and choices).

    A unit manager reads surveys open to any unit, and those whose root unit lies inside or
    above one of their subtrees.
    """
    surveys = surveys_with_counts(Survey.objects.order_by("-created_at", "pk"))
    if with_questions:
        questions = Question.objects.order_by("order", "id").prefetch_related("choices")
        surveys = surveys.prefetch_related(Prefetch("questions", queryset=questions))
    if reads_every_unit(reader):
        return surveys
    condition = Q(root_unit__isnull=True)
    for path in managed_paths(reader):
        ancestors = [int(segment) for segment in path.strip("/").split("/")]
        condition |= Q(root_unit__path__startswith=path) | Q(root_unit_id__in=ancestors)
    return surveys.filter(condition)


def public_survey(slug: str) -> Survey | None:
    """A survey respondents may reach by its slug (any but a draft), with its root unit."""
    surveys = Survey.objects.select_related("root_unit").exclude(status=Survey.Status.DRAFT)
    return surveys.filter(slug=slug).first()


def readable_responses(
    reader: Reader,
    *,
    unit: OrgUnit | None = None,
    subtree: bool = True,
    period_from: str | None = None,
    period_to: str | None = None,
) -> QuerySet[Response]:
    """Responses about units the reader may read, narrowed to `unit` (and its subtree) and a
    period range. Employee and anonymous responses are refused by the exports, not here."""
    responses = scoped(Response.objects.all(), reader)
    responses = responses.filter(period_range_condition(period_from, period_to))
    if unit is not None:
        within = Q(unit__path__startswith=unit.path) if subtree else Q(unit=unit)
        responses = responses.filter(within)
    return responses


# ------------------------------------------------------------------ respondent pages

# Units a respondent can be "about": the front line, not the regions above it.
FRONTLINE_LEVELS = (OrgUnit.Level.STORE, OrgUnit.Level.TEAM)
HOME_SURVEY_LIMIT = 50


def questions_for(survey: Survey) -> list[Question]:
    """The survey's questions with their choices, in display order."""
    return list(survey.questions.prefetch_related("choices").order_by("order", "id"))


def survey_by_slug(slug: str) -> Survey | None:
    """The survey at a public address, whatever its status, with its root unit."""
    return Survey.objects.select_related("root_unit").filter(slug=slug).first()


def open_customer_surveys() -> QuerySet[Survey]:
    """Open customer surveys by title, each annotated with an `example_unit` code to link to."""
    example_unit = (
        OrgUnit.objects.filter(
            level__in=FRONTLINE_LEVELS,
            path__startswith=Coalesce(OuterRef("root_unit__path"), Value("")),
        )
        .order_by("path")
        .values("code")[:1]
    )
    surveys = Survey.objects.filter(status=Survey.Status.OPEN, audience=Survey.Audience.CUSTOMER)
    return surveys.annotate(example_unit=Subquery(example_unit)).order_by("title")[
        :HOME_SURVEY_LIMIT
    ]


def _answering_scope(survey: Survey) -> QuerySet[OrgUnit]:
    return survey.root_unit.subtree() if survey.root_unit else OrgUnit.objects.all()


def unit_in_survey(survey: Survey, code: str) -> OrgUnit | None:
    """The store or team with `code` if it may answer the survey (inside its root unit)."""
    return _answering_scope(survey).filter(code=code, level__in=FRONTLINE_LEVELS).first()


def frontline_units(survey: Survey) -> QuerySet[OrgUnit]:
    """Stores and teams that may answer the survey, by name (a respondent's choice)."""
    return _answering_scope(survey).filter(level__in=FRONTLINE_LEVELS).order_by("name", "code")


def invitations_for_export(queryset: QuerySet[Invitation]) -> QuerySet[Invitation]:
    """Invitations with what `exports.invitation_rows` reads, in one query.

    Joins the caller asked for (the admin changelist's `list_select_related`) are dropped:
    a deferred relation cannot also be joined.
    """
    return (
        queryset.select_related(None)
        .select_related("unit")
        .only("token", "contact", "customer_id", "expires_at", "unit__code")
    )


# ------------------------------------------------------------------ metric values


def masked_column(name: str, output_field: Any) -> Case:
    """The column, or NULL on a suppressed cell (the SQL form of `metric_values`' masking)."""
    return Case(When(suppressed=True, then=Value(None)), default=F(name), output_field=output_field)


class MaskedMetricValueIterable(ModelIterable):
    """Model rows with value, CI, n and details of suppressed cells blanked out."""

    def __iter__(self):
        for row in super().__iter__():
            if row.suppressed:
                row.value = row.ci_low = row.ci_high = row.n = None
                row.details = {}
            yield row


class MetricValueQuerySet(QuerySet):
    """A MetricValue queryset whose model rows always come out masked."""

    def __init__(self, model=None, query=None, using=None, hints=None) -> None:
        super().__init__(model=model or MetricValue, query=query, using=using, hints=hints)
        self._iterable_class = MaskedMetricValueIterable


def metric_values(
    *,
    reader: Reader,
    metric_keys: Iterable[str] | None = None,
    unit: OrgUnit | None = None,
    subtree: bool = True,
    periods: Iterable[str] | None = None,
    period_from: str | None = None,
    period_to: str | None = None,
    level: str | None = None,
) -> MetricValueQuerySet:
    """MetricValues with metric and unit loaded, masked where suppressed; for employee and
    anonymous metrics the values of the last release (`services.releases`).

    Only units the `reader` may read (`visibility`; SYSTEM for tasks and commands). Filters:
    `metric_keys`, `unit` (with its subtree unless `subtree` is False), `periods` or an
    inclusive range `period_from`…`period_to`, `level` (unit level). Ordered by chain stage,
    metric, unit, period.
    """
    rows = scoped(MetricValueQuerySet().select_related("metric", "unit"), reader)
    if metric_keys is not None:
        # Ids, not a join on the key: the planner then reads one metric's keyset pages from
        # the (metric, id) index instead of walking every metric's rows in id order.
        metric_ids = Metric.objects.filter(key__in=list(metric_keys)).values_list("id", flat=True)
        rows = rows.filter(metric_id__in=list(metric_ids))
    if unit is not None:
        rows = rows.filter(unit__path__startswith=unit.path) if subtree else rows.filter(unit=unit)
    if periods is not None:
        rows = rows.filter(period__in=list(periods))
    rows = rows.filter(period_range_condition(period_from, period_to))
    if level is not None:
        rows = rows.filter(unit__level=level)
    ordered = rows.order_by("metric__chain_stage", "metric__key", "unit__path", "period")
    return cast(MetricValueQuerySet, ordered)


def metric_catalogue() -> QuerySet[Metric]:
    """Every metric, in chain order."""
    return Metric.objects.order_by("chain_stage", "key")


@dataclass(frozen=True)
class MetricPanel:
    """Values of several metrics as a metrics × units × periods array (linkage input).

    NaN marks a cell that is missing or suppressed; `suppressed` counts the suppressed cells
    per metric so a run can report how many it had to leave out.
    """

    metric_keys: list[str]
    unit_ids: list[int]
    periods: list[str]
    values: np.ndarray
    n: np.ndarray
    suppressed: np.ndarray


def metric_value_panel(
    *,
    metric_keys: list[str],
    level: str,
    periods: list[str],
    reader: Reader,
    unit: OrgUnit | None = None,
) -> MetricPanel:
    """Panel of `metric_keys` for the units of one `level` (within `unit`) over `periods`.

    Units are those with at least one value row, in tree order. One query, unordered: the
    cells land by key, and sorting tens of thousands of rows by text was most of its cost.
    """
    rows = list(
        metric_values(
            reader=reader, metric_keys=metric_keys, unit=unit, periods=periods, level=level
        )
        .order_by()
        .values_list("metric__key", "unit_id", "unit__path", "period", "value", "n", "suppressed")
    )
    unit_ids = [unit_id for unit_id, _ in sorted({(row[1], row[2]) for row in rows}, key=_path)]
    metric_at = {key: index for index, key in enumerate(metric_keys)}
    unit_at = {unit_id: index for index, unit_id in enumerate(unit_ids)}
    period_at = {period: index for index, period in enumerate(periods)}
    shape = (len(metric_keys), len(unit_ids), len(periods))
    values, n = np.full(shape, np.nan), np.zeros(shape, dtype=np.int64)
    suppressed = np.zeros(len(metric_keys), dtype=np.int64)
    for key, unit_id, _, period, value, count, hidden in rows:
        cell = (metric_at[key], unit_at[unit_id], period_at[period])
        if hidden:
            suppressed[cell[0]] += 1
        elif value is not None:
            values[cell], n[cell] = value, count
    return MetricPanel(
        metric_keys=list(metric_keys),
        unit_ids=unit_ids,
        periods=list(periods),
        values=values,
        n=n,
        suppressed=suppressed,
    )


def _path(pair: tuple[int, str]) -> str:
    return pair[1]


def metric_keys_with_values(*, level: str | None = None) -> list[str]:
    """Keys of metrics with at least one unsuppressed value (at units of `level`), chain order."""
    values = MetricValue.objects.filter(metric=OuterRef("pk"), value__isnull=False)
    if level is not None:
        values = values.filter(unit__level=level)
    metrics = Metric.objects.filter(Exists(values)).order_by("chain_stage", "key")
    return list(metrics.values_list("key", flat=True))


def periods_with_values(*, metric_keys: Iterable[str], level: str) -> list[str]:
    """Distinct period labels with an unsuppressed value of any of the metrics at `level`."""
    rows = MetricValue.objects.filter(
        metric__key__in=list(metric_keys), unit__level=level, value__isnull=False
    )
    return list(rows.order_by("period").values_list("period", flat=True).distinct())


def metric_values_snapshot_at(
    *, metric_keys: Iterable[str], level: str, periods: Iterable[str]
) -> datetime | None:
    """When the newest of these values was computed or imported (the data snapshot time)."""
    rows = MetricValue.objects.filter(
        metric__key__in=list(metric_keys), unit__level=level, period__in=list(periods)
    )
    return rows.aggregate(latest=Max("computed_at"))["latest"]
