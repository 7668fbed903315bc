"""Streaming CSV and XLSX exports of responses and metric values, in constant memory.

Rows come from one SQL query read in chunks (`values_list(...).iterator(chunk_size=…)`,
no model object per row); responses are pivoted to one row per response in the database
(one conditional aggregate per question). CSV is written as it is read. XLSX cannot be
sent before the file is complete (it is a zip archive), so XlsxWriter's `constant_memory`
mode spools rows to a temporary file, which is then streamed out and removed.

Every text cell a spreadsheet would run as a formula (starting with =, +, -, @, tab or
carriage return) gets a leading apostrophe; numbers stay numbers. Suppressed metric values
leave the platform empty, as `metric_values` shows them; raw responses of employee and
anonymous surveys are never exported (`RawExportRefused`).
"""

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

import xlsxwriter
from django.db import connections, transaction
from django.db.models import (
    Aggregate,
    Case,
    CharField,
    F,
    FloatField,
    IntegerField,
    Max,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, Substr
from django.db.models.lookups import In
from django.http import StreamingHttpResponse

from linkage.models import MetricValue

from .models import Question, Response, Survey

CHUNK_ROWS = 5000  # rows per database fetch and per CSV write
XLSX_MAX_ROWS = 1_048_576  # rows per worksheet in Excel; more continue on another sheet
FILE_CHUNK_BYTES = 256 * 1024
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = frozenset("=+-@\t\r")  # first characters a spreadsheet evaluates

RESPONSE_COLUMNS = (
    *("response_id", "submitted_at", "unit", "period", "channel"),
    *("respondent_key", "external_id", "language", "segment"),
)
METRIC_VALUE_COLUMNS = (
    *("metric", "unit", "unit_name", "level", "period", "value"),
    *("ci_low", "ci_high", "n", "suppressed", "source"),
)

Row = Sequence[Any]


class RawExportRefused(Exception):
    """Raw responses of this survey are not exported, to protect small groups."""

    message = (
        "Individual responses of employee and anonymous surveys are never exported: a small "
        "group could be recognised from them. Export metric values instead "
        "(/api/v1/metric-values/export/), which hide groups below the anonymity threshold."
    )


def neutralise(value: Any) -> Any:
    """A cell value safe to open in a spreadsheet: text that would start a formula gets a
    leading apostrophe; numbers, booleans and empty cells are returned unchanged."""
    if isinstance(value, str) and value[:1] in _FORMULA_START:
        return "'" + value
    return value


def _number(value: float) -> float | int:
    return int(value) if value.is_integer() else value


def _segment(value: dict) -> str:
    if not value:
        return ""
    return neutralise(";".join(f"{key}={item}" for key, item in value.items()))


# Conversions by exact type, looked up once per cell: whole floats print as integers, times
# as ISO 8601, text is made spreadsheet-safe; None, int and bool pass through unchanged.
_CONVERT_BY_TYPE: dict[type, Any] = {
    float: _number,
    str: neutralise,
    datetime: datetime.isoformat,
    date: date.isoformat,
    dict: _segment,
}


def _cells(row: Row) -> list[Any]:
    """One row's export values (None stays None: an empty cell)."""
    return [
        value if (convert := _CONVERT_BY_TYPE.get(value.__class__)) is None else convert(value)
        for value in row
    ]


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


def spreadsheet_safe(expression: Any) -> Case:
    """SQL twin of `neutralise`: text starting a formula gets a leading apostrophe."""
    text = expression if hasattr(expression, "resolve_expression") else F(expression)
    starts_formula = In(Substr(text, 1, 1), sorted(_FORMULA_START))
    return Case(
        When(starts_formula, then=Concat(Value("'"), text, output_field=TextField())),
        default=text,
        output_field=TextField(),
    )


def _answer_column(question: Question) -> Any:
    """One conditional aggregate per question: the answer of that question, per response."""
    mine = Q(answers__question_id=question.pk)
    if question.type == Question.Type.MULTI:
        return spreadsheet_safe(JoinedValues("answers__choices__value", filter=mine))
    if question.type == Question.Type.SINGLE:
        return spreadsheet_safe(Max("answers__choice__value", filter=mine))
    if question.type == Question.Type.TEXT:
        return spreadsheet_safe(Max("answers__text", filter=mine))
    number = "answers__number"
    if question.type in Question.SCALES:  # whole numbers: "9", not "9.0", with no work per cell
        number = Cast("answers__number", IntegerField())
    return Max(number, filter=mine, output_field=DriverNumber())


def export_responses_query(survey: Survey, responses: QuerySet[Response]) -> tuple[list, QuerySet]:
    """Question codes and a values_list query giving one row per response, answers pivoted.

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
            unit_text=spreadsheet_safe(Max("unit__code")),
            key_text=spreadsheet_safe(Max("respondent_key")),
            external_text=spreadsheet_safe(Max("external_id")),
            language_text=spreadsheet_safe(Max("language")),
            **columns,
        )
    )
    return [question.code for question in questions], query


class ReadyRows(Iterator[Row]):
    """Rows whose cells are already spreadsheet-safe (writers skip the per-cell pass)."""

    def __init__(self, rows: Iterator[Row]) -> None:
        self.rows = rows

    def __next__(self) -> Row:
        return next(self.rows)


def response_rows(survey: Survey, responses: QuerySet[Response]) -> Iterator[Row]:
    """The header, then one row per response, streamed from one server-side cursor.

    Raises RawExportRefused at once (not on first iteration) for a survey never exported.
    """
    codes, query = export_responses_query(survey, responses)
    return ReadyRows(_in_export_order(_with_header((*RESPONSE_COLUMNS, *codes), query)))


def _in_export_order(rows: Iterator[Row]) -> Iterator[Row]:
    """Query rows (pk, period, channel, segment, time, unit, key, external id, language,
    answers…) in the column order of RESPONSE_COLUMNS, the segment as key=value text."""
    yield next(rows)  # the header
    for pk, period, channel, segment, submitted, unit, key, external, language, *answers in rows:
        identity = (pk, submitted, unit, period, channel, key, external, language)
        yield (*identity, _segment(segment), *answers)


def _with_header(header: Row, query: QuerySet) -> Iterator[Row]:
    """The header, then the query's rows fetched in chunks from a server-side cursor.

    In a transaction the cursor is not WITH HOLD, so PostgreSQL does not first copy the
    whole result aside; and the planner is told every row will be read (by default it
    optimises a cursor for its first tenth: nested loops where a hash join is faster).
    """
    yield header
    connection = connections[query.db]
    with transaction.atomic(using=query.db):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        yield from query.iterator(chunk_size=CHUNK_ROWS)


# ------------------------------------------------------------------ metric values


def masked_value(name: str, output_field) -> Case:
    """The column, or NULL on a suppressed cell (the same masking as `metric_values`)."""
    return Case(When(suppressed=True, then=Value(None)), default=F(name), output_field=output_field)


def metric_value_rows(values: QuerySet[MetricValue]) -> Iterator[Row]:
    """The header, then one row per metric value of `values` (a `metric_values` queryset);
    value, interval and n of suppressed cells are empty."""
    query = values.annotate(
        masked_value=masked_value("value", FloatField()),
        masked_ci_low=masked_value("ci_low", FloatField()),
        masked_ci_high=masked_value("ci_high", FloatField()),
        masked_n=masked_value("n", IntegerField()),
    ).values_list(
        *("metric__key", "unit__code", "unit__name", "unit__level", "period"),
        *("masked_value", "masked_ci_low", "masked_ci_high", "masked_n", "suppressed", "source"),
    )
    return _with_header(METRIC_VALUE_COLUMNS, query)


# ------------------------------------------------------------------ writers


def csv_chunks(rows: Iterable[Row], *, rows_per_chunk: int = CHUNK_ROWS) -> Iterator[bytes]:
    """UTF-8 CSV in chunks of `rows_per_chunk` rows, cells made spreadsheet-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    ready = isinstance(rows, ReadyRows)
    pending = 0
    for row in rows:
        writer.writerow(row if ready else _cells(row))
        pending += 1
        if pending == rows_per_chunk:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode()


def xlsx_chunks(rows: Iterable[Row], *, sheet_name: str = "export") -> Iterator[bytes]:
    """An XLSX workbook written in constant memory to a temporary file, then streamed."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        _write_workbook(path, rows, sheet_name)
        with open(path, "rb") as workbook_file:
            while chunk := workbook_file.read(FILE_CHUNK_BYTES):
                yield chunk
    finally:
        os.unlink(path)


def _write_workbook(path: str, rows: Iterable[Row], sheet_name: str) -> None:
    workbook = xlsxwriter.Workbook(
        path,
        {"constant_memory": True, "tmpdir": tempfile.gettempdir(), "strings_to_numbers": False},
    )
    try:
        iterator = iter(rows)
        header = list(next(iterator, ()))
        sheet, line, sheets = None, XLSX_MAX_ROWS, 0
        for row in iterator:
            if line == XLSX_MAX_ROWS:  # a new sheet, with the header again
                sheets += 1
                sheet = workbook.add_worksheet(
                    sheet_name if sheets == 1 else f"{sheet_name} {sheets}"
                )
                sheet.write_row(0, 0, header)
                line = 1
            _write_row(sheet, line, row)
            line += 1
        if sheet is None:
            workbook.add_worksheet(sheet_name).write_row(0, 0, header)
    finally:
        workbook.close()


def _write_row(sheet, line: int, row: Row) -> None:
    # Typed writes: write_string never turns text into a formula, numbers stay numbers.
    for column, cell in enumerate(_cells(row)):
        if cell is None or cell == "":
            continue
        if isinstance(cell, bool):
            sheet.write_boolean(line, column, cell)
        elif isinstance(cell, int | float):
            sheet.write_number(line, column, cell)
        else:
            sheet.write_string(line, column, str(cell))


def streaming_export(rows: Iterable[Row], *, export_format: str, file_stem: str):
    """A StreamingHttpResponse with the rows as CSV or XLSX, offered as a download."""
    if export_format == "xlsx":
        content, content_type = xlsx_chunks(rows), XLSX_TYPE
    else:
        content, content_type = csv_chunks(rows), CSV_TYPE
    response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_stem}.{export_format}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
