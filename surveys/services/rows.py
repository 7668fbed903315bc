"""Writing a submission's rows as plain INSERTs: its response and change-log mark one
statement each (`insert_row`), its answers in one multi-row statement, an import's
thousands with COPY (PostgreSQL) or executemany.

Why not the ORM's `create`/`bulk_create`: it compiles every field of every row into SQL on
each call; for a ten-answer submission that was 1.8 ms of CPU for the answers and 0.9 ms for
the response (0.5 for the mark), against 0.3 and 0.2 ms for the same statements sent
directly — most of what a submission cost. No signal receivers listen to these saves.
Chosen options of multiple-choice answers are linked afterwards, by (response, question),
which identifies one answer.
"""

from django.db import connection, models

from ..answers import CleanAnswer
from ..models import Answer

_ANSWER_COLUMNS = ("response", "question", "number", "text", "choice")
# Up to this many answers go as one INSERT (5 parameters each: far below any driver limit).
SINGLE_STATEMENT_ROWS = 200


def insert_row(instance: models.Model) -> None:
    """Insert an unsaved model instance as `save()` would (each field's own conversion, so
    dates are stored as the ORM stores them on every database) and set its primary key."""
    meta = instance._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(f"{sql} RETURNING {quote(meta.pk.column)}", values)
            instance.pk = cursor.fetchone()[0]
        else:
            cursor.execute(sql, values)
            instance.pk = cursor.lastrowid
    instance._state.adding, instance._state.db = False, connection.alias


def insert_answers(answered: list[tuple[int, CleanAnswer]]) -> None:
    """Insert (response id, cleaned answer) pairs as Answer rows."""
    if not answered:
        return
    quote = connection.ops.quote_name
    table = quote(Answer._meta.db_table)
    columns = ", ".join(quote(column(Answer, name)) for name in _ANSWER_COLUMNS)
    values = [
        (response_id, item.question.pk, item.number, item.text, getattr(item.choice, "pk", None))
        for response_id, item in answered
    ]
    row = "(" + ", ".join(["%s"] * len(_ANSWER_COLUMNS)) + ")"
    with connection.cursor() as cursor:
        if len(values) <= SINGLE_STATEMENT_ROWS:
            rows = ", ".join([row] * len(values))
            flat = [value for answer in values for value in answer]
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {rows}", flat)
        elif connection.vendor == "postgresql":
            # COPY writes 100k answers several times faster than INSERT (bench_ingest.py).
            copying = cursor.copy(f"COPY {table} ({columns}) FROM STDIN")
            with connection.wrap_database_errors, copying as copy:
                for answer in values:
                    copy.write_row(answer)
        else:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES {row}", values)


def link_chosen_options(answered: list[tuple[int, CleanAnswer]]) -> None:
    """Link each multiple-choice answer of (response id, cleaned answer) to its options."""
    answered = [(response_id, item) for response_id, item in answered if item.choices]
    if not answered:
        return
    response_ids = [response_id for response_id, _ in answered]
    # A range rather than IN (thousands of ids) stays under SQLite's parameter limit; only
    # this batch's own (response, question) pairs are looked up below.
    stored = Answer.objects.filter(
        response_id__gte=min(response_ids),
        response_id__lte=max(response_ids),
        question_id__in={item.question.pk for _, item in answered},
    ).values_list("response_id", "question_id", "pk")
    answer_ids = {(response_id, question_id): pk for response_id, question_id, pk in stored}
    link = Answer.choices.through
    link.objects.bulk_create(
        link(answer_id=answer_ids[response_id, item.question.pk], choice_id=choice.pk)
        for response_id, item in answered
        for choice in item.choices
    )


def concrete(model: type[models.Model], name: str) -> models.Field:
    """A model's concrete field (one with a column) by name."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column
    return field


def column(model: type[models.Model], name: str) -> str:
    """The database column of a model's concrete field."""
    return str(concrete(model, name).column)
