"""Streaming CSV and XLSX downloads in constant memory, for every export of the platform.

Rows come from one SQL query read in chunks from a server-side cursor (`rows_with_header`),
no model object per row. CSV is written as it is read. XLSX cannot be sent before the file
is complete (it is a zip archive), so XlsxWriter's `constant_memory` mode spools rows to a
temporary file, which is then streamed out and removed. Every text cell goes through the
one spreadsheet-safety rule (`common.spreadsheet`); numbers stay numbers.
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
from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from .spreadsheet import neutralise

CHUNK_ROWS = 5000  # rows per database fetch and per CSV write
XLSX_MAX_ROWS = 1_048_576  # rows per worksheet in Excel; more continue on another sheet
FILE_CHUNK_BYTES = 256 * 1024
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Row = Sequence[Any]


def _number(value: float) -> float | int:
    return int(value) if value.is_integer() else value


def segment_text(value: dict) -> str:
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
    dict: segment_text,
}


def _cells(row: Row) -> list[Any]:
    """One row's export values (None stays None: an empty cell)."""
    return [
        value if (convert := _CONVERT_BY_TYPE.get(value.__class__)) is None else convert(value)
        for value in row
    ]


class ReadyRows(Iterator[Row]):
    """Rows whose cells are already spreadsheet-safe (writers skip the per-cell pass)."""

    def __init__(self, rows: Iterator[Row]) -> None:
        self.rows = rows

    def __next__(self) -> Row:
        return next(self.rows)


def rows_with_header(header: Row, query: QuerySet) -> Iterator[Row]:
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
