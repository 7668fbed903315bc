"""Many responses at once (`import_responses`): all rows or none, bulk inserts or COPY."""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from common.exceptions import CappedItemErrors
from common.roles import is_active_user
from common.services import record_event

from ..answers import CleanAnswer, clean_answers
from ..exceptions import (
    BulkInvalid,
    ConfidentialActionRefused,
    ImportTooLarge,
    PeriodAlreadyReleased,
    SurveyClosed,
    UnknownUnit,
)
from ..models import OrgUnit, Response, Survey
from ..selectors import questions_for
from ..visibility import SYSTEM, Reader, SystemCaller
from .releases import period_released
from .rows import column, concrete, insert_answers, link_chosen_options
from .scores import mark_scores_dirty
from .submissions import check_unit, response_fields
from .webhooks import announce_responses, notify_response_submitted

MAX_IMPORT_ROWS = 10_000
# Longest accepted text per response field; longer values would fail in the database.
_META_MAX_LENGTHS = {"respondent_key": 100, "external_id": 100, "language": 10}
# Imported times lie between these: later would score a period that has not happened, and
# earlier (year 1 …) overflows when converted to a period in the local time zone.
EARLIEST_SUBMISSION = datetime(1970, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(minutes=5)

RowErrors = dict[str, list[str]]


@dataclass(frozen=True)
class ImportResult:
    """What one bulk import wrote."""

    responses: int
    answers: int
    periods: tuple[str, ...]


def import_responses(
    *,
    survey: Survey,
    rows: Iterable[Mapping[str, Any]],
    channel: str = Response.Channel.IMPORT,
    allow_closed: bool = False,
    imported_by: Reader = SYSTEM,
) -> ImportResult:
    """Validate and store many responses at once, all or nothing.

    Each row: {"unit": OrgUnit or unit code, "answers": {code: value}, and optionally
    "submitted_at" (aware datetime), "respondent_key", "segment", "external_id", "language"}.
    Answers are checked by the same rules as `submit_response`, with the same privacy (no
    respondent key for employee surveys, only the day of submission for anonymous ones).
    A duplicate `external_id` (in the batch or already stored for the survey) is a row error,
    and so is a `submitted_at` in the future or before 1970. An external id stored by a
    concurrent import while this one ran is reported the same way.
    Employee and anonymous surveys: only an administrator (`imported_by` a superuser, or
    SYSTEM for commands and the demo) may import, only into periods not yet released, and
    the import is audited; anyone else gets ConfidentialActionRefused, a released period
    PeriodAlreadyReleased. Padding a small team with made-up answers and subtracting them
    would otherwise reveal its real answers.
    Raises ImportTooLarge (over MAX_IMPORT_ROWS rows), SurveyClosed (unless `allow_closed`)
    or BulkInvalid with {row_index: {field or question code: [messages]}}; nothing is
    written when it raises. Each touched (survey, period) is marked dirty once.
    """
    rows = list(rows)
    if len(rows) > MAX_IMPORT_ROWS:
        raise ImportTooLarge(f"At most {MAX_IMPORT_ROWS} rows per import; got {len(rows)}.")
    if survey.status != Survey.Status.OPEN and not allow_closed:
        raise SurveyClosed()
    if survey.is_confidential and not _is_administrator(imported_by):
        raise ConfidentialActionRefused()
    prepared, errors = _prepare_rows(survey, rows, channel)
    if errors:
        raise BulkInvalid(errors)
    periods = tuple(sorted({response.period for response, _ in prepared}))
    try:
        with transaction.atomic():
            if survey.is_confidential:
                _check_unreleased_and_audit(survey, periods, imported_by)
            answer_count = _write_bulk(prepared)
            for period in periods:
                mark_scores_dirty(survey_id=survey.pk, period=period)
            response_ids = [response.pk for response, _ in prepared]
            notify_response_submitted(survey=survey, response_ids=response_ids)
            announce_responses(survey=survey, responses=[response for response, _ in prepared])
    except IntegrityError:
        # A concurrent import (e.g. a client's retry) committed some of these external ids,
        # or removed a unit, after the rows were checked: check again to name the rows.
        _, errors = _prepare_rows(survey, rows, channel)
        if errors:
            raise BulkInvalid(errors) from None
        raise
    return ImportResult(responses=len(prepared), answers=answer_count, periods=periods)


def _is_administrator(reader: Reader) -> bool:
    return isinstance(reader, SystemCaller) or (is_active_user(reader) and reader.is_superuser)


def _check_unreleased_and_audit(survey: Survey, periods: tuple[str, ...], reader: Reader) -> None:
    released = [period for period in periods if period_released(survey, period)]
    if released:
        raise PeriodAlreadyReleased(
            f"Results of {', '.join(released)} were already released; answers can no longer "
            "be imported into it."
        )
    actor = None if isinstance(reader, SystemCaller) else reader
    details = {"survey_id": survey.pk, "periods": list(periods)}
    record_event(actor, "responses.imported", survey.title, details)


def _prepare_rows(
    survey: Survey, rows: list[Mapping[str, Any]], channel: str
) -> tuple[list[tuple[Response, list[CleanAnswer]]], CappedItemErrors]:
    """Unsaved responses with their clean answers, or errors by row index (the first rows'
    in detail, the others counted: nothing grows with the number of bad values)."""
    questions = questions_for(survey)  # once, with choices, for every row
    units = _units_by_code(rows)
    external_ids = _ExternalIds(_stored_external_ids(survey, rows))
    now = timezone.now()
    prepared: list[tuple[Response, list[CleanAnswer]]] = []
    errors = CappedItemErrors()
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            errors.add(index, {"row": ["Each row must be an object."]})
            continue
        row_errors: RowErrors = {}
        unit = _row_unit(survey, row.get("unit"), units, row_errors)
        meta = _row_meta(row, row_errors, now)
        external_ids.check(meta.get("external_id"), index, row_errors)
        cleaned = _row_answers(questions, row.get("answers"), row_errors)
        if row_errors:
            errors.add(index, row_errors)
            continue
        fields = response_fields(survey, None, meta, now)
        prepared.append((Response(survey=survey, unit=unit, channel=channel, **fields), cleaned))
    return prepared, errors


def _units_by_code(rows: list[Mapping[str, Any]]) -> dict[str, OrgUnit]:
    codes = {row.get("unit") for row in rows if isinstance(row, Mapping)}
    codes = {code for code in codes if isinstance(code, str)}
    return {unit.code: unit for unit in OrgUnit.objects.filter(code__in=codes)}


def _stored_external_ids(survey: Survey, rows: list[Mapping[str, Any]]) -> set[str]:
    wanted = {row.get("external_id") for row in rows if isinstance(row, Mapping)}
    wanted = {value for value in wanted if isinstance(value, str) and value}
    stored = Response.objects.filter(survey=survey, external_id__in=wanted)
    return set(stored.values_list("external_id", flat=True))


class _ExternalIds:
    """Tracks external ids seen in a batch against those already stored."""

    def __init__(self, stored: set[str]) -> None:
        self.stored = stored
        self.first_row: dict[str, int] = {}

    def check(self, external_id: str | None, index: int, row_errors: RowErrors) -> None:
        if not external_id:
            return
        if external_id in self.stored:
            row_errors["external_id"] = [f"'{external_id}' was already imported."]
        elif external_id in self.first_row:
            first = self.first_row[external_id]
            row_errors["external_id"] = [f"'{external_id}' repeats row {first}."]
        else:
            self.first_row[external_id] = index


def _row_unit(
    survey: Survey, value: Any, units: dict[str, OrgUnit], row_errors: RowErrors
) -> OrgUnit | None:
    unit = value if isinstance(value, OrgUnit) else None
    if isinstance(value, str) and value:
        unit = units.get(value)
    if unit is None and value:
        row_errors["unit"] = [f"Unit '{value}' is not known."]
        return None
    try:
        return check_unit(survey, unit)
    except UnknownUnit as error:
        row_errors["unit"] = [error.message]
        return None


def _row_meta(row: Mapping[str, Any], row_errors: RowErrors, now: datetime) -> dict[str, Any]:
    """The optional response fields of a row, checked for type, length and time range."""
    meta: dict[str, Any] = {}
    for name, limit in _META_MAX_LENGTHS.items():
        value = row.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or len(value) > limit:
            row_errors[name] = [f"Give text of at most {limit} characters."]
        else:
            meta[name] = value
    segment = row.get("segment")
    if segment is not None and not isinstance(segment, Mapping):
        row_errors["segment"] = ["Give the segment as an object of attributes."]
    meta["segment"] = dict(segment) if isinstance(segment, Mapping) else {}
    submitted_at = row.get("submitted_at")
    if submitted_at is not None:
        if not isinstance(submitted_at, datetime) or timezone.is_naive(submitted_at):
            row_errors["submitted_at"] = ["Give a date and time with a time zone."]
        elif not EARLIEST_SUBMISSION <= submitted_at <= now + CLOCK_SKEW:
            row_errors["submitted_at"] = ["Give a time between 1970 and now, not in the future."]
        else:
            meta["submitted_at"] = submitted_at
    return meta


def _row_answers(questions: list, raw: Any, row_errors: RowErrors) -> list[CleanAnswer]:
    if not isinstance(raw, Mapping):
        row_errors["answers"] = ["Give the answers as an object of question code to value."]
        return []
    cleaned, answer_errors = clean_answers(questions, raw)
    row_errors.update(answer_errors)
    return cleaned


def _write_bulk(prepared: list[tuple[Response, list[CleanAnswer]]]) -> int:
    """Insert responses, then answers, then multi-choice links; return the answer count."""
    responses = _insert_responses([response for response, _ in prepared])
    answered = [
        (response.pk, item)
        for response, (_, cleaned) in zip(responses, prepared, strict=True)
        for item in cleaned
    ]
    insert_answers(answered)
    link_chosen_options(answered)
    return len(answered)


_RESPONSE_COLUMNS = (
    *("survey", "unit", "period", "invitation", "respondent_key", "external_id"),
    *("channel", "segment", "language", "submitted_at"),
)
_SEGMENT_AT = _RESPONSE_COLUMNS.index("segment")


def _insert_responses(responses: list[Response]) -> list[Response]:
    """Insert the responses and set their primary keys.

    PostgreSQL: ids are drawn from the table's sequence in one query and the rows sent with
    COPY, several times faster than the ORM's INSERT for 10,000 rows (bench_ingest.py).
    """
    if connection.vendor != "postgresql" or not responses:
        return Response.objects.bulk_create(responses)
    quote = connection.ops.quote_name
    table = quote(Response._meta.db_table)
    fields = [concrete(Response, name) for name in _RESPONSE_COLUMNS]
    columns = ", ".join(quote(column(Response, name)) for name in ("id", *_RESPONSE_COLUMNS))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Response._meta.db_table, len(responses)],
        )
        for response, (pk,) in zip(responses, cursor.fetchall(), strict=True):
            response.pk = pk
            response._state.adding, response._state.db = False, connection.alias  # as saved
        # COPY goes to the driver directly: wrap its errors as Django's (IntegrityError …).
        copying = cursor.copy(f"COPY {table} ({columns}) FROM STDIN")
        with connection.wrap_database_errors, copying as copy:
            for response in responses:
                values = [getattr(response, field.attname) for field in fields]
                values[_SEGMENT_AT] = json.dumps(values[_SEGMENT_AT])  # JSON as text
                copy.write_row((response.pk, *values))
    return responses
