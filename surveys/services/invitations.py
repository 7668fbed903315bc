"""Single-use personal invitations (`issue_invitations`) and the checks on their contact rows."""

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from common.services import record_event

from ..exceptions import (
    ConfidentialActionRefused,
    InvalidContactRow,
    InvalidInvitationRequest,
    SurveyClosed,
)
from ..models import Invitation, OrgUnit, Survey
from .submissions import check_unit

MAX_INVITATIONS = 10_000
MAX_EXPIRY_DAYS = 365
# Same rule as segment filters in aggregation, so every stored key can be filtered on.
_SEGMENT_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_PHONE_NUMBER = re.compile(r"^\+?[0-9][0-9 ()./-]{5,24}$")
_CONTACT_MAX_LENGTH = 254
_CUSTOMER_ID_MAX_LENGTH = 100


def issue_invitations(
    *,
    survey: Survey,
    unit: OrgUnit,
    count: int | None = None,
    contacts: Iterable[Mapping[str, Any]] | None = None,
    expires_in_days: int | None = 30,
    created_by: User | None = None,
) -> list[Invitation]:
    """Create single-use personal invitations to one unit of a survey, all or none.

    Either `count` links, or one per `contacts` row: a mapping with optional "contact"
    (e-mail or phone), "customer_id", "segment" (mapping or "key=value;key=value") and "line"
    (its line in an uploaded file, for messages; default: 1-based position). Tokens are 256
    bits from `secrets`. `expires_in_days=None`: no expiry. Audited as done by `created_by`.
    Employee and anonymous surveys: only an administrator (a superuser, or None for
    commands) issues invitations, since whoever holds tokens can pad a small team.
    Raises SurveyClosed, ConfidentialActionRefused, UnknownUnit (outside the root unit),
    InvalidInvitationRequest (count or expiry out of range) or InvalidContactRow naming the
    first bad line.
    """
    if survey.status == Survey.Status.CLOSED:
        raise SurveyClosed("This survey is closed; re-open it before issuing invitations.")
    if survey.is_confidential and created_by is not None and not created_by.is_superuser:
        raise ConfidentialActionRefused()
    check_unit(survey, unit)
    rows = _invitation_rows(count, contacts)
    expires_at = _expiry(expires_in_days)
    invitations = [
        Invitation(survey=survey, unit=unit, expires_at=expires_at, **row) for row in rows
    ]
    with transaction.atomic():
        created = Invitation.objects.bulk_create(invitations, batch_size=1000)
        record_event(
            created_by,
            "invitations.issued",
            f"{survey.title} / {unit.code}",
            {"survey_id": survey.pk, "unit": unit.code, "count": len(created)},
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
