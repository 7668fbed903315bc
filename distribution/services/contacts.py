"""Importing contacts from CSV: checked line by line, written all at once or not at all."""

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from common.services import record_event
from surveys.models import OrgUnit
from surveys.visibility import SYSTEM, scoped

from ..exceptions import InvalidContactFile
from ..models import Contact

REQUIRED_COLUMNS = ("unit_code", "email")
FIXED_COLUMNS = ("unit_code", "email", "customer_id", "language", "audience")
MAX_CONTACT_ROWS = 200_000
_SEGMENT_KEY_CHARACTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


@dataclass(frozen=True)
class ContactImportResult:
    created: int
    updated: int


def read_contact_file(data: bytes | str | IO[Any]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) pairs of a UTF-8 CSV with a header line (line 1)."""
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig")
    if isinstance(data, str):
        data = io.StringIO(data)
    reader = csv.DictReader(data)
    for row in reader:
        yield reader.line_num, row


def import_contacts(
    *,
    rows: Iterable[tuple[int, dict[str, str]]],
    imported_by: User | None = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] = lambda items: items,
) -> ContactImportResult:
    """Create or update contacts from CSV rows, all or none.

    Columns: unit_code and email (required), customer_id, language (one of LANGUAGES),
    audience (customer, the default, or employee); every other column becomes a segment
    attribute. A contact is its e-mail address (case-insensitive): importing it again
    updates it, and keeps its unsubscribe and bounce marks. Every bad line is reported with
    its number (InvalidContactFile) and nothing is written. `progress` wraps the rows
    (a progress bar in the command). A unit manager (`imported_by`) imports into, and
    updates contacts of, the units they manage only; None is the platform (commands).
    """
    units = scoped(OrgUnit.objects.all(), imported_by or SYSTEM, field="")
    checked, errors = _check_rows(progress(rows), dict(units.values_list("code", "pk")))
    existing = {
        contact.email: contact
        for contact in Contact.objects.filter(email__in=[row["email"] for row in checked])
    }
    allowed = set(units.values_list("pk", flat=True))
    errors += [
        (row["line"], f"{row['email']} belongs to a unit you do not manage.")
        for row in checked
        if row["email"] in existing and existing[row["email"]].unit_id not in allowed
    ]
    if errors:
        raise InvalidContactFile(sorted(errors))
    new, changed = [], []
    for fields in checked:
        fields.pop("line")
        contact = existing.get(fields["email"])
        if contact is None:
            new.append(Contact(**fields))
        else:
            for name, value in fields.items():
                setattr(contact, name, value)
            changed.append(contact)
    with transaction.atomic():
        Contact.objects.bulk_create(new, batch_size=1000)
        columns = ["unit", "audience", "customer_id", "language", "segment", "updated_at"]
        Contact.objects.bulk_update(changed, columns, batch_size=1000)
        record_event(
            imported_by,
            "contacts.imported",
            "contacts",
            {"created": len(new), "updated": len(changed)},
        )
    return ContactImportResult(created=len(new), updated=len(changed))


def _check_rows(
    rows: Iterable[tuple[int, dict[str, str]]], units: dict[str, int]
) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    languages = {code for code, _ in settings.LANGUAGES}
    checked: list[dict[str, Any]] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for count, (line, row) in enumerate(rows, start=1):
        if count > MAX_CONTACT_ROWS:
            errors.append((line, f"more than {MAX_CONTACT_ROWS:,} contacts in one file."))
            break
        if count == 1 and (missing := [c for c in REQUIRED_COLUMNS if c not in row]):
            errors.append((1, f"the header lacks the column(s) {', '.join(missing)}."))
            break
        try:
            fields = _contact_fields(row, units, languages)
        except ValueError as error:
            errors.append((line, str(error)))
            continue
        if fields["email"] in seen:
            errors.append((line, f"{fields['email']} is already on line {seen[fields['email']]}."))
            continue
        seen[fields["email"]] = line
        checked.append({**fields, "line": line})
    if not checked and not errors:
        errors.append((1, "the file has no contacts."))
    return checked, errors


def _contact_fields(
    row: dict[str, Any], units: dict[str, int], languages: set[str]
) -> dict[str, Any]:
    if None in row:
        raise ValueError("more values than columns in the header.")
    email = (row.get("email") or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValueError(f"'{email}' is not a valid e-mail address.") from None
    code = (row.get("unit_code") or "").strip()
    if code not in units:
        raise ValueError(f"unknown unit code '{code}'.")
    language = (row.get("language") or "").strip().lower()
    if language and language not in languages:
        raise ValueError(f"language '{language}' is not one of {', '.join(sorted(languages))}.")
    audience = (row.get("audience") or Contact.Audience.CUSTOMER).strip().lower()
    if audience not in Contact.Audience.values:
        raise ValueError(f"audience '{audience}' must be customer or employee.")
    customer_id = (row.get("customer_id") or "").strip()
    if len(customer_id) > 100:
        raise ValueError("the customer id is longer than 100 characters.")
    segment = {}
    for key, value in row.items():
        if key in FIXED_COLUMNS or not (value or "").strip():
            continue
        if not key or not key[0].isalpha() or not set(key) <= _SEGMENT_KEY_CHARACTERS:
            raise ValueError(f"column '{key}' must start with a letter and use letters, digits, _.")
        segment[key] = value.strip()[:200]
    return {
        "email": email,
        "unit_id": units[code],
        "audience": audience,
        "customer_id": customer_id,
        "language": language,
        "segment": segment,
    }
