"""Export rows of responses, metric values and invitations, for the streaming writers of
`common.exports`.

Responses are pivoted to one row per response in the database (one conditional aggregate per
question) with text cells made spreadsheet-safe in SQL. Suppressed metric values leave the
platform empty, as `metric_values` shows them; raw responses of employee and anonymous
surveys are never exported (`RawExportRefused`).
"""

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import (
    Aggregate,
    CharField,
    FloatField,
    IntegerField,
    Max,
    Q,
    QuerySet,
    TextField,
)
from django.db.models.functions import Cast

# The one import of a higher layer (pyproject ignore_imports): masking is pure text code.
from comments.analysis.masking import mask_personal_data
from common.exports import ReadyRows, Row, rows_with_header, segment_text
from common.net import public_base_url
from common.spreadsheet import neutralise, neutralised

from .exceptions import RawExportRefused
from .models import Invitation, MetricValue, Question, Response, Survey
from .selectors import masked_column

RESPONSE_COLUMNS = (
    *("response_id", "submitted_at", "unit", "period", "channel"),
    *("respondent_key", "external_id", "language", "segment"),
)
METRIC_VALUE_COLUMNS = (
    *("metric", "unit", "unit_name", "level", "period", "value"),
    *("ci_low", "ci_high", "n", "suppressed", "source"),
)
INVITATION_COLUMNS = ("token", "url", "unit_code", "contact", "customer_id", "expires_at")


# ------------------------------------------------------------------ responses


class JoinedValues(Aggregate):
    """The values of a group joined with ';' (STRING_AGG; GROUP_CONCAT on SQLite)."""

    function = "STRING_AGG"
    template = "%(function)s(%(distinct)s%(expressions)s, ';')"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


class DriverNumber(FloatField):
    """Output type of number aggregates, read as the database driver returns them.

    PostgreSQL and SQLite drivers already give Python ints and floats; declaring a plain
    FloatField would add a float() call per value, which was a fifth of an export's time.
    """

    def get_internal_type(self) -> str:
        return "DriverNumber"


def _answer_column(question: Question) -> Any:
    """One conditional aggregate per question: the answer of that question, per response."""
    mine = Q(answers__question_id=question.pk)
    if question.type == Question.Type.MULTI:
        return neutralised(JoinedValues("answers__choices__value", filter=mine))
    if question.type == Question.Type.SINGLE:
        return neutralised(Max("answers__choice__value", filter=mine))
    if question.type == Question.Type.TEXT:
        return neutralised(Max("answers__text", filter=mine))
    # Every type but NUMBER takes whole numbers only (scales and ratings): "9", not "9.0",
    # with no work per cell.
    whole = question.type != Question.Type.NUMBER
    number = Cast("answers__number", IntegerField()) if whole else None
    return Max(number or "answers__number", filter=mine, output_field=DriverNumber())


def answer_headers(codes: Iterable[str]) -> list[str]:
    """Column headers of the answer columns: the question code, or ``question.<code>`` when the
    code equals a response column (e.g. ``channel``). Codes are slugs, so they never contain a
    dot and the prefixed name cannot meet another column."""
    return [f"question.{code}" if code in RESPONSE_COLUMNS else code for code in codes]


def export_responses_query(survey: Survey, responses: QuerySet[Response]) -> tuple[list, QuerySet]:
    """Answer headers (`answer_headers`) and a values_list query giving one row per response,
    answers pivoted.

    Raises RawExportRefused for employee and anonymous surveys. `responses` is already
    narrowed to the caller's units and filters. The GROUP BY collapses to the response key
    (functional dependency), so the pivot costs one pass over the answers.
    """
    if survey.is_employee or survey.anonymous:
        raise RawExportRefused()
    questions = list(survey.questions.order_by("order", "id"))
    columns = {f"answer_{index}": _answer_column(q) for index, q in enumerate(questions)}
    query = (
        responses.filter(survey=survey)
        .order_by("pk")
        .values_list("pk", "period", "channel", "segment")
        # Cells come out of the database ready to write: the time as text (parsing it only
        # to print it again cost a sixth of an export) and text made spreadsheet-safe in SQL.
        # Each is an aggregate of the response's one value, so it is computed once per
        # response after grouping instead of being a grouping key over every answer row.
        .annotate(
            submitted_text=Cast(Max("submitted_at"), TextField()),
            unit_text=neutralised(Max("unit__code")),
            key_text=neutralised(Max("respondent_key")),
            external_text=neutralised(Max("external_id")),
            language_text=neutralised(Max("language")),
            **columns,
        )
    )
    return answer_headers(question.code for question in questions), query


def response_rows(survey: Survey, responses: QuerySet[Response]) -> Iterator[Row]:
    """The header, then one row per response, streamed from one server-side cursor.

    Raises RawExportRefused at once (not on first iteration) for a survey never exported.
    """
    codes, query = export_responses_query(survey, responses)
    texts = frozenset(
        index
        for index, kind in enumerate(survey.questions.order_by("order", "id").values_list("type"))
        if kind == (Question.Type.TEXT,)
    )
    rows = rows_with_header((*RESPONSE_COLUMNS, *codes), query)
    return ReadyRows(_in_export_order(rows, texts))


def _in_export_order(rows: Iterator[Row], texts: frozenset[int] = frozenset()) -> Iterator[Row]:
    """Query rows (pk, period, channel, segment, time, unit, key, external id, language,
    answers…) in the column order of RESPONSE_COLUMNS, the segment as key=value text, and
    the open-text answers at positions `texts` with personal data masked (e-mail addresses,
    phone and card numbers: comments are masked before any show or export)."""
    yield next(rows)  # the header
    for pk, period, channel, segment, submitted, unit, key, external, language, *answers in rows:
        identity = (pk, submitted, unit, period, channel, key, external, language)
        for index in texts:
            if answers[index]:
                answers[index] = mask_personal_data(answers[index])
        yield (*identity, segment_text(segment), *answers)


# ------------------------------------------------------------------ metric values


def metric_value_rows(values: QuerySet[MetricValue]) -> Iterator[Row]:
    """The header, then one row per metric value of `values` (a `metric_values` queryset);
    value, interval and n of suppressed cells are empty."""
    query = values.annotate(
        masked_value=masked_column("value", FloatField()),
        masked_ci_low=masked_column("ci_low", FloatField()),
        masked_ci_high=masked_column("ci_high", FloatField()),
        masked_n=masked_column("n", IntegerField()),
    ).values_list(
        *("metric__key", "unit__code", "unit__name", "unit__level", "period"),
        *("masked_value", "masked_ci_low", "masked_ci_high", "masked_n", "suppressed", "source"),
    )
    return rows_with_header(METRIC_VALUE_COLUMNS, query)


# ------------------------------------------------------------------ invitations


def invitation_rows(
    invitations: Iterable[Invitation], *, base_url: str | None = None
) -> Iterator[tuple[Any, ...]]:
    """The header, then one row per invitation: token, personal URL, unit code, contact,
    customer id and expiry (ISO 8601, empty when it never expires), spreadsheet-safe.

    Invitations must come with their unit loaded (`invitations_for_export`, or as returned
    by `issue_invitations`). URLs start with `base_url`, by default `public_base_url()`.
    """
    base = (base_url or public_base_url()).rstrip("/")
    yield INVITATION_COLUMNS
    for invitation in invitations:
        expires_at = invitation.expires_at.isoformat() if invitation.expires_at else ""
        yield (
            neutralise(invitation.token),  # a URL-safe token may start with "-"
            base + invitation.get_absolute_url(),
            neutralise(invitation.unit.code),
            neutralise(invitation.contact),
            neutralise(invitation.customer_id),
            expires_at,
        )
