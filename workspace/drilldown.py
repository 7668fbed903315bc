"""Read paths of the drill-down: a unit's customer responses, one response and the pathway
of the customer who gave it.

Only responses that may be listed one by one (`individually_listable_responses`: never an
employee or anonymous survey) about units the reader may read (`readable_responses`).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import (
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
)

# Row-value comparison (Django's lookups for composite keys): no public spelling yet.
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

from distribution.models import FollowUpCase
from distribution.selectors import cases_for
from surveys.models import Answer, OrgUnit, Question, Response
from surveys.selectors import individually_listable_responses, readable_responses
from surveys.visibility import Reader

BANDS = {
    "promoters": Q(number__gte=9),
    "passives": Q(number__gte=7, number__lt=9),
    "detractors": Q(number__lt=7),
}
PATHWAY_LIMIT = 100


@dataclass(frozen=True)
class ResponseFilters:
    period_from: str | None = None
    period_to: str | None = None
    band: str | None = None  # a key of BANDS
    segment: tuple[str, str] | None = None  # key, value
    has_comment: bool = False


def _annotated(responses: QuerySet[Response]) -> QuerySet[Response]:
    """Each response with its NPS answer (`score`) and first open comment (`comment`)."""
    answers = Answer.objects.filter(response=OuterRef("pk"))
    score = answers.filter(question__type=Question.Type.NPS, number__isnull=False)
    comment = answers.filter(question__type=Question.Type.TEXT).exclude(text="")
    return responses.annotate(
        score=Subquery(score.values("number")[:1], output_field=FloatField()),
        comment=Subquery(
            comment.order_by("question__order").values("text")[:1], output_field=TextField()
        ),
        has_comment=Exists(comment),
    )


def unit_responses(
    unit: OrgUnit, *, reader: Reader, filters: ResponseFilters
) -> QuerySet[Response]:
    """Customer responses about `unit` and its subtree, newest first, narrowed by `filters`.

    Filters are EXISTS conditions, not annotations, so counting the matches (the pager) does
    not compute every row's score and comment; `with_score_and_comment` adds those to a page.
    """
    responses = readable_responses(
        reader, unit=unit, period_from=filters.period_from, period_to=filters.period_to
    )
    responses = individually_listable_responses(responses)
    answers = Answer.objects.filter(response=OuterRef("pk"))
    if filters.band in BANDS:
        scores = answers.filter(BANDS[filters.band], question__type=Question.Type.NPS)
        responses = responses.filter(Exists(scores))
    if filters.segment is not None:
        key, value = filters.segment
        responses = responses.filter(**{f"segment__{key}": value})
    if filters.has_comment:
        comments = answers.filter(question__type=Question.Type.TEXT).exclude(text="")
        responses = responses.filter(Exists(comments))
    return responses.order_by("-submitted_at", "-pk")


@dataclass(frozen=True)
class ResponsePage:
    """One page of a newest-first listing, with whether older and newer rows exist."""

    ids: list[int]
    has_older: bool
    has_newer: bool


def keyset_page(
    responses: QuerySet[Response], *, older_than: int | None, newer_than: int | None, size: int
) -> ResponsePage | None:
    """The page of `responses` (newest first) after or before the response `older_than` /
    `newer_than`, or the newest page; None when that response is not in `responses`.

    Why keyset: each page seeks the (submitted_at, id) index from the position and reads
    `size` + 1 rows, so the last page costs what the first does (OFFSET reads every row
    before the page). The position is one row value, `(submitted_at, id) < (at, cursor)`, which
    PostgreSQL seeks in the index even when thousands of responses share a timestamp (an
    imported batch); `submitted_at < at OR (= at AND id < cursor)` scans every tied row.
    """
    cursor = older_than if older_than is not None else newer_than
    if cursor is None:
        ids = list(responses.values_list("pk", flat=True)[: size + 1])
        return ResponsePage(ids[:size], has_older=len(ids) > size, has_newer=False)
    at = responses.filter(pk=cursor).values_list("submitted_at", flat=True).first()
    if at is None:
        return None
    position = Tuple(F("submitted_at"), F("pk"))
    if older_than is not None:
        rows = responses.filter(TupleLessThan(position, (at, cursor)))
        ids = list(rows.values_list("pk", flat=True)[: size + 1])
        return ResponsePage(ids[:size], has_older=len(ids) > size, has_newer=True)
    rows = responses.filter(TupleGreaterThan(position, (at, cursor)))
    ids = list(rows.order_by("submitted_at", "pk").values_list("pk", flat=True)[: size + 1])
    return ResponsePage(ids[:size][::-1], has_older=True, has_newer=len(ids) > size)


def with_score_and_comment(response_ids: Iterable[int]) -> list[Response]:
    """The page's responses (in this order) with `score` and `comment` (one query)."""
    ids = list(response_ids)
    annotated = _annotated(Response.objects.filter(pk__in=ids)).select_related("survey", "unit")
    by_id = {response.pk: response for response in annotated}
    return [by_id[pk] for pk in ids if pk in by_id]


def response_for(reader: Reader, pk: int) -> Response | None:
    """One listable response the reader may read, with its answers; None alike otherwise."""
    responses = individually_listable_responses(readable_responses(reader)).filter(pk=pk)
    return responses.select_related("survey", "unit", "unit__parent").first()


def answers_of(response: Response) -> list[Answer]:
    """The response's answers in question order, choices loaded."""
    answers = Answer.objects.filter(response=response).select_related("question", "choice")
    return list(answers.prefetch_related("choices").order_by("question__order", "question_id"))


def pathway(reader: Reader, response: Response) -> list[Response]:
    """Every listable response of the same customer the reader may read, oldest first."""
    if not response.respondent_key:
        return [response]
    responses = individually_listable_responses(readable_responses(reader)).filter(
        respondent_key=response.respondent_key
    )
    ordered = _annotated(responses).select_related("survey", "unit").order_by("submitted_at", "pk")
    return list(ordered[:PATHWAY_LIMIT])


def cases_by_response(reader: Reader, responses: Iterable[Response]) -> dict[int, FollowUpCase]:
    """The follow-up cases (closed loop) of these responses the reader may see, by response."""
    ids = [response.pk for response in responses]
    return {case.response_id: case for case in cases_for(reader).filter(response_id__in=ids)}
