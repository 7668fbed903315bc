"""Write paths for surveys. Each public function is one action in one transaction."""

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from linkage.models import AuditEvent

from .answers import CleanAnswer, clean_answers
from .exceptions import (
    BulkInvalid,
    ImportTooLarge,
    InvalidAnswers,
    InvalidContactRow,
    InvalidInvitationRequest,
    InvitationExpired,
    InvitationNotFound,
    InvitationUsed,
    QuestionWithoutOptions,
    SurveyClosed,
    SurveyHasNoQuestions,
    UnknownUnit,
)
from .models import Answer, DirtyScoreCell, Invitation, OrgUnit, Question, Response, Survey
from .tasks import recompute_scores_task
from .webhooks import notify_response_submitted

logger = logging.getLogger(__name__)


def questions_for(survey: Survey) -> list:
    """The survey's questions with their choices, in display order."""
    return list(survey.questions.prefetch_related("choices").order_by("order", "id"))


def find_invitation(token: str) -> Invitation:
    """The invitation for a token that can still be answered, or a domain error."""
    invitation = Invitation.objects.select_related("survey", "unit").filter(token=token).first()
    if invitation is None:
        raise InvitationNotFound()
    if invitation.is_used:
        raise InvitationUsed()
    if invitation.is_expired():
        raise InvitationExpired()
    return invitation


def _check_unit(survey: Survey, unit: OrgUnit | None) -> OrgUnit:
    if unit is None:
        raise UnknownUnit("Choose the store or team this answer is about.")
    if survey.root_unit_id and not unit.path.startswith(survey.root_unit.path):
        raise UnknownUnit(f"Unit '{unit.code}' does not take part in this survey.")
    return unit


def _claim_invitation(token: str, now: datetime) -> Invitation:
    """Mark the invitation used; the conditional UPDATE makes two racing claims yield one."""
    invitation = find_invitation(token)
    claimed = Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(used_at=now)
    if not claimed:
        raise InvitationUsed()
    return invitation


def _write_answers(response: Response, cleaned: list[CleanAnswer]) -> None:
    answers = Answer.objects.bulk_create(
        [
            Answer(
                response=response,
                question=item.question,
                number=item.number,
                text=item.text,
                choice=item.choice,
            )
            for item in cleaned
        ]
    )
    links = [
        Answer.choices.through(answer_id=answer.pk, choice_id=choice.pk)
        for answer, item in zip(answers, cleaned, strict=True)
        for choice in item.choices
    ]
    Answer.choices.through.objects.bulk_create(links)


def submit_response(
    *,
    survey: Survey,
    answers: Mapping[str, Any],
    unit: OrgUnit | None = None,
    token: str | None = None,
    channel: str = Response.Channel.WEB,
    meta: Mapping[str, Any] | None = None,
) -> Response:
    """Validate and store one response with its answers, atomically.

    `token` (a personal invitation) fixes the unit and is used up; otherwise `unit` is the
    public link's unit. `meta` may carry respondent_key, segment, language, external_id and
    submitted_at (imports). Employee surveys keep no respondent key and no invitation link;
    anonymous surveys also keep only the day of submission, so a response cannot be traced
    back to a person.
    Raises SurveyClosed, InvitationNotFound/Used/Expired, UnknownUnit or InvalidAnswers;
    nothing is written when it raises.
    """
    meta = dict(meta or {})
    if survey.status != Survey.Status.OPEN:
        raise SurveyClosed()
    cleaned, errors = clean_answers(questions_for(survey), answers)
    if errors:
        raise InvalidAnswers(errors)
    now = timezone.now()
    with transaction.atomic():
        invitation = None
        if token is not None:
            invitation = _claim_invitation(token, now)
            if invitation.survey_id != survey.pk:
                raise InvitationNotFound()
            unit = invitation.unit
            meta.setdefault("respondent_key", invitation.customer_id)
            meta["segment"] = {**invitation.segment, **meta.get("segment", {})}
            meta.setdefault("language", invitation.language)
        response = Response.objects.create(
            survey=survey,
            unit=_check_unit(survey, unit),
            channel=channel,
            **_response_fields(survey, invitation, meta, now),
        )
        _write_answers(response, cleaned)
        mark_scores_dirty(survey_id=survey.pk, period=response.period)
        notify_response_submitted(survey=survey, response_ids=[response.pk])
    return response


def _response_fields(
    survey: Survey, invitation: Invitation | None, meta: dict[str, Any], now: datetime
) -> dict[str, Any]:
    submitted_at = meta.get("submitted_at") or now
    fields = {
        "period": survey.period_for(submitted_at),
        "segment": meta.get("segment") or {},
        "language": meta.get("language") or "",
        "external_id": meta.get("external_id") or "",
    }
    if survey.anonymous:
        day = timezone.localtime(submitted_at).replace(hour=0, minute=0, second=0, microsecond=0)
        return {**fields, "submitted_at": day, "invitation": None, "respondent_key": ""}
    if survey.is_employee:
        # Confidential, not anonymous: the exact time stays, but neither a respondent key nor
        # the invitation (whose contact and id name the employee) is kept with the answers.
        return {**fields, "submitted_at": submitted_at, "invitation": None, "respondent_key": ""}
    return {
        **fields,
        "submitted_at": submitted_at,
        "invitation": invitation,
        "respondent_key": meta.get("respondent_key") or "",
    }


def mark_scores_dirty(*, survey_id: int, period: str) -> None:
    """Record that (survey, period) needs a recompute and queue one after commit.

    At most one recompute per cell is queued at a time; later submissions only bump
    `marked_at`, which the running task notices and re-queues itself for. The mark is made
    twice: in the transaction, so it is stored with the answers even if the broker is down,
    and again after commit, so a recompute that started before the commit (and so could not
    see these answers) finds a newer mark and runs once more instead of settling the cell.
    """
    _mark_dirty(survey_id=survey_id, period=period)
    transaction.on_commit(lambda: _mark_dirty_and_queue(survey_id=survey_id, period=period))


def _mark_dirty(*, survey_id: int, period: str) -> None:
    now = timezone.now()
    DirtyScoreCell.objects.bulk_create(
        [DirtyScoreCell(survey_id=survey_id, period=period, marked_at=now)], ignore_conflicts=True
    )
    DirtyScoreCell.objects.filter(survey_id=survey_id, period=period).update(marked_at=now)


def _mark_dirty_and_queue(*, survey_id: int, period: str) -> None:
    _mark_dirty(survey_id=survey_id, period=period)
    cells = DirtyScoreCell.objects.filter(survey_id=survey_id, period=period, queued_at=None)
    if cells.update(queued_at=timezone.now()):
        queue_recompute(survey_id=survey_id, period=period)


def queue_recompute(*, survey_id: int, period: str) -> bool:
    """Send the recompute task; when the broker is unreachable leave the cell for the sweep.

    In eager mode (no broker) `.delay` runs the recompute inline, so an exception can also
    come from the recompute itself: it is logged as an error with its traceback rather than
    as a broker problem. Either way the submission stands and the sweep retries the cell.
    """
    try:
        recompute_scores_task.delay(survey_id, period)
    except Exception:  # broker down, or (eager) the recompute failed: the sweep retries
        if recompute_scores_task.app.conf.task_always_eager:
            logger.exception("Recompute of survey %s %s failed", survey_id, period)
        else:
            logger.warning(
                "Could not queue recompute of survey %s %s", survey_id, period, exc_info=True
            )
        DirtyScoreCell.objects.filter(survey_id=survey_id, period=period).update(queued_at=None)
        return False
    return True


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
) -> ImportResult:
    """Validate and store many responses at once, all or nothing.

    Each row: {"unit": OrgUnit or unit code, "answers": {code: value}, and optionally
    "submitted_at" (aware datetime), "respondent_key", "segment", "external_id", "language"}.
    Answers are checked by the same rules as `submit_response`, with the same privacy (no
    respondent key for employee surveys, only the day of submission for anonymous ones).
    A duplicate `external_id` (in the batch or already stored for the survey) is a row error,
    and so is a `submitted_at` in the future or before 1970. An external id stored by a
    concurrent import while this one ran is reported the same way.
    Raises ImportTooLarge (over MAX_IMPORT_ROWS rows), SurveyClosed (unless `allow_closed`)
    or BulkInvalid with {row_index: {field or question code: [messages]}}; nothing is
    written when it raises. Each touched (survey, period) is marked dirty once.
    """
    rows = list(rows)
    if len(rows) > MAX_IMPORT_ROWS:
        raise ImportTooLarge(f"At most {MAX_IMPORT_ROWS} rows per import; got {len(rows)}.")
    if survey.status != Survey.Status.OPEN and not allow_closed:
        raise SurveyClosed()
    prepared, errors = _prepare_rows(survey, rows, channel)
    if errors:
        raise BulkInvalid(errors)
    periods = tuple(sorted({response.period for response, _ in prepared}))
    try:
        with transaction.atomic():
            answer_count = _write_bulk(prepared)
            for period in periods:
                mark_scores_dirty(survey_id=survey.pk, period=period)
            notify_response_submitted(
                survey=survey, response_ids=[response.pk for response, _ in prepared]
            )
    except IntegrityError:
        # A concurrent import (e.g. a client's retry) committed some of these external ids,
        # or removed a unit, after the rows were checked: check again to name the rows.
        _, errors = _prepare_rows(survey, rows, channel)
        if errors:
            raise BulkInvalid(errors) from None
        raise
    return ImportResult(responses=len(prepared), answers=answer_count, periods=periods)


def _prepare_rows(
    survey: Survey, rows: list[Mapping[str, Any]], channel: str
) -> tuple[list[tuple[Response, list[CleanAnswer]]], dict[int, RowErrors]]:
    """Unsaved responses with their clean answers, or errors by row index."""
    questions = questions_for(survey)  # once, with choices, for every row
    units = _units_by_code(rows)
    external_ids = _ExternalIds(_stored_external_ids(survey, rows))
    now = timezone.now()
    prepared: list[tuple[Response, list[CleanAnswer]]] = []
    errors: dict[int, RowErrors] = {}
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            errors[index] = {"row": ["Each row must be an object."]}
            continue
        row_errors: RowErrors = {}
        unit = _row_unit(survey, row.get("unit"), units, row_errors)
        meta = _row_meta(row, row_errors, now)
        external_ids.check(meta.get("external_id"), index, row_errors)
        cleaned = _row_answers(questions, row.get("answers"), row_errors)
        if row_errors:
            errors[index] = row_errors
            continue
        fields = _response_fields(survey, None, meta, now)
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
        return _check_unit(survey, unit)
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
    _insert_answers(answered)
    _link_chosen_options([(response_id, item) for response_id, item in answered if item.choices])
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
    fields = [Response._meta.get_field(name) for name in _RESPONSE_COLUMNS]
    columns = ", ".join(quote(field.column) for field in [Response._meta.pk, *fields])
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


def _insert_answers(answered: list[tuple[int, CleanAnswer]]) -> None:
    # One parameterised executemany instead of bulk_create: the ORM builds a model and
    # compiles SQL per field per answer, which doubled the time of a 10k-row import.
    names = ("response", "question", "number", "text", "choice")
    quote = connection.ops.quote_name
    columns = ", ".join(quote(Answer._meta.get_field(name).column) for name in names)
    placeholders = ", ".join(["%s"] * len(names))
    sql = f"INSERT INTO {quote(Answer._meta.db_table)} ({columns}) VALUES ({placeholders})"
    values = [
        (response_id, item.question.pk, item.number, item.text, getattr(item.choice, "pk", None))
        for response_id, item in answered
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY writes 100k answers several times faster than INSERT (bench_ingest.py).
            table = quote(Answer._meta.db_table)
            copying = cursor.copy(f"COPY {table} ({columns}) FROM STDIN")
            with connection.wrap_database_errors, copying as copy:
                for row in values:
                    copy.write_row(row)
        else:
            cursor.executemany(sql, values)


def _link_chosen_options(answered: list[tuple[int, CleanAnswer]]) -> None:
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


MAX_INVITATIONS = 10_000
MAX_EXPIRY_DAYS = 365
# Same rule as segment filters in aggregation, so every stored key can be filtered on.
_SEGMENT_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_PHONE_NUMBER = re.compile(r"^\+?[0-9][0-9 ()./-]{5,24}$")
_CONTACT_MAX_LENGTH = 254
_CUSTOMER_ID_MAX_LENGTH = 100


def open_survey(*, survey: Survey) -> Survey:
    """Open a survey for answers: status open, `opened_at` kept from the first opening.

    Re-opening a closed survey clears `closed_at`; opening an open survey changes nothing.
    Raises SurveyHasNoQuestions for a survey without questions and QuestionWithoutOptions
    for a choice question without options, which nobody could answer.
    """
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        if locked.status != Survey.Status.OPEN:
            _check_answerable(locked)
            locked.status = Survey.Status.OPEN
            locked.opened_at = locked.opened_at or timezone.now()
            locked.closed_at = None
            locked.save(update_fields=["status", "opened_at", "closed_at", "updated_at"])
    survey.refresh_from_db(fields=["status", "opened_at", "closed_at", "updated_at"])
    return survey


def _check_answerable(survey: Survey) -> None:
    if not survey.questions.exists():
        raise SurveyHasNoQuestions(
            f"“{survey.title}” has no questions yet; add questions before opening it."
        )
    choice_types = (Question.Type.SINGLE, Question.Type.MULTI)
    empty = survey.questions.filter(type__in=choice_types, choices__isnull=True)
    codes = sorted(empty.values_list("code", flat=True))
    if codes:
        raise QuestionWithoutOptions(
            f"“{survey.title}” cannot open: the choice question(s) {', '.join(codes)} have no "
            "options yet; add them on the question's page."
        )


def close_survey(*, survey: Survey) -> Survey:
    """Stop accepting answers: status closed and `closed_at` now.

    Closing a closed survey changes nothing. Stored answers and scores stay as they are.
    """
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        if locked.status != Survey.Status.CLOSED:
            locked.status = Survey.Status.CLOSED
            locked.closed_at = timezone.now()
            locked.save(update_fields=["status", "closed_at", "updated_at"])
    survey.refresh_from_db(fields=["status", "opened_at", "closed_at", "updated_at"])
    return survey


def issue_invitations(
    *,
    survey: Survey,
    unit: OrgUnit,
    count: int | None = None,
    contacts: Iterable[Mapping[str, Any]] | None = None,
    expires_in_days: int | None = 30,
    created_by: AbstractBaseUser | None = None,
) -> list[Invitation]:
    """Create single-use personal invitations to one unit of a survey, all or none.

    Either `count` links, or one per `contacts` row: a mapping with optional "contact"
    (e-mail or phone), "customer_id", "segment" (mapping or "key=value;key=value") and "line"
    (its line in an uploaded file, for messages; default: 1-based position). Tokens are 256
    bits from `secrets`. `expires_in_days=None`: no expiry. Audited as done by `created_by`.
    Raises SurveyClosed, UnknownUnit (outside the root unit), InvalidInvitationRequest (count
    or expiry out of range) or InvalidContactRow naming the first bad line.
    """
    if survey.status == Survey.Status.CLOSED:
        raise SurveyClosed("This survey is closed; re-open it before issuing invitations.")
    _check_unit(survey, unit)
    rows = _invitation_rows(count, contacts)
    expires_at = _expiry(expires_in_days)
    invitations = [
        Invitation(survey=survey, unit=unit, expires_at=expires_at, **row) for row in rows
    ]
    with transaction.atomic():
        created = Invitation.objects.bulk_create(invitations, batch_size=1000)
        AuditEvent.objects.create(
            actor=created_by,
            action="invitations.issued",
            subject=f"{survey.title} / {unit.code}"[:200],
            details={"survey_id": survey.pk, "unit": unit.code, "count": len(created)},
        )
    return created


def _check_count(count: Any, *, field: str) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_INVITATIONS:
        what = "contacts" if field == "contacts" else "invitations"
        raise InvalidInvitationRequest(
            f"Give from 1 to {MAX_INVITATIONS:,} {what}; got {count}.", field=field
        )
    return count


def _expiry(expires_in_days: Any) -> datetime | None:
    if expires_in_days is None:
        return None
    if (
        isinstance(expires_in_days, bool)
        or not isinstance(expires_in_days, int)
        or not 1 <= expires_in_days <= MAX_EXPIRY_DAYS
    ):
        raise InvalidInvitationRequest(
            f"Invitations expire after 1 to {MAX_EXPIRY_DAYS} days; got {expires_in_days}.",
            field="expires_in_days",
        )
    return Invitation.default_expiry(expires_in_days)


def _invitation_rows(
    count: int | None, contacts: Iterable[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    """Invitation fields per invitation to create: empty without contacts, else checked rows."""
    if contacts is None:
        return [{} for _ in range(_check_count(count, field="count"))]
    contacts = list(contacts)
    _check_count(len(contacts), field="contacts")
    if count is not None and count != len(contacts):
        raise InvalidInvitationRequest(
            f"{count} invitations were asked for, but the contacts list has {len(contacts)} "
            "rows; give only one of them.",
            field="count",
        )
    rows = []
    for index, row in enumerate(contacts):
        try:
            rows.append(_contact_fields(row, index + 1))
        except InvalidContactRow as error:
            error.index = index
            raise
    return rows


def _contact_fields(row: Any, position: int) -> dict[str, Any]:
    if not isinstance(row, Mapping):
        raise InvalidContactRow(position, "expected the columns email, customer_id, segment.")
    line = row.get("line") or position
    contact = str(row.get("contact") or "").strip()
    customer_id = str(row.get("customer_id") or "").strip()
    if not contact and not customer_id:
        raise InvalidContactRow(line, "give an e-mail address or a customer id.", column="contact")
    if contact:
        _check_contact(contact, line)
    if len(customer_id) > _CUSTOMER_ID_MAX_LENGTH:
        raise InvalidContactRow(
            line,
            f"the customer id is longer than {_CUSTOMER_ID_MAX_LENGTH} characters.",
            column="customer_id",
        )
    segment = _parse_segment(row.get("segment"), line)
    return {"contact": contact, "customer_id": customer_id, "segment": segment}


def _check_contact(contact: str, line: int) -> None:
    if len(contact) > _CONTACT_MAX_LENGTH:
        raise InvalidContactRow(
            line, f"the contact is longer than {_CONTACT_MAX_LENGTH} characters.", column="contact"
        )
    if "@" in contact:
        try:
            validate_email(contact)
        except ValidationError:
            message = f"'{contact}' is not a valid e-mail address."
            raise InvalidContactRow(line, message, column="contact") from None
    elif not _PHONE_NUMBER.match(contact):
        raise InvalidContactRow(
            line,
            f"'{contact}' is neither an e-mail address nor a phone number.",
            column="contact",
        )


def _parse_segment(value: Any, line: int) -> dict[str, str]:
    """A segment from a mapping or from "key=value;key=value" text."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        pairs = [part.partition("=") for part in value.split(";") if part.strip()]
        if any(not separator for _, separator, _ in pairs):
            raise InvalidContactRow(
                line, f"segment '{value}' must look like product=X;region=north.", column="segment"
            )
        value = {key.strip(): text.strip() for key, _, text in pairs}
    if not isinstance(value, Mapping):
        raise InvalidContactRow(line, "the segment must be key=value pairs.", column="segment")
    for key, text in value.items():
        if not isinstance(key, str) or not _SEGMENT_KEY.match(key):
            raise InvalidContactRow(
                line,
                f"segment key '{key}' must start with a letter and use only letters, digits, _.",
                column="segment",
            )
        if not isinstance(text, str | int | float) or isinstance(text, bool):
            message = f"segment '{key}' must be text or a number."
            raise InvalidContactRow(line, message, column="segment")
    return {key: str(text) for key, text in value.items()}
