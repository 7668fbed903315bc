"""Read paths of the drill-down: a unit's customer responses, one response and the pathway
of the customer who gave it.

Only responses that may be listed one by one (`individually_listable_responses`: never an
employee or anonymous survey) about units the reader may read (`readable_responses`).
"""

from dataclasses import dataclass

from django.db.models import Exists, FloatField, OuterRef, Q, QuerySet, Subquery, TextField

from surveys.models import Answer, OrgUnit, Question, Response
from surveys.selectors import individually_listable_responses, readable_responses
from surveys.visibility import Reader

BANDS = {
    "promoters": Q(score__gte=9),
    "passives": Q(score__gte=7, score__lt=9),
    "detractors": Q(score__lt=7),
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
    """Customer responses about `unit` and its subtree, newest first, narrowed by `filters`."""
    responses = readable_responses(
        reader, unit=unit, period_from=filters.period_from, period_to=filters.period_to
    )
    responses = _annotated(individually_listable_responses(responses))
    if filters.band in BANDS:
        responses = responses.filter(BANDS[filters.band])
    if filters.segment is not None:
        key, value = filters.segment
        responses = responses.filter(**{f"segment__{key}": value})
    if filters.has_comment:
        responses = responses.filter(Q(has_comment=True))
    return responses.order_by("-submitted_at", "-pk")


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
