"""Shape checks of API input that plain DRF fields cannot express cheaply: answer maps,
segments and the rows of a bulk submission.

Only types, sizes and characters are checked here (so that nothing reaches the database that
it would refuse with an error); whether an answer fits its question is decided by the same
service code every channel uses. Bulk rows are checked in one plain loop instead of a nested
serializer per row, because 10,000 rows through nested serializers cost seconds.
"""

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from surveys.answers import MAX_TEXT_LENGTH

MAX_ANSWERS = 200
MAX_CHOICES = 100
MAX_NUMBER = 1e15  # far beyond any scale; larger values only overflow floats and columns
MAX_CODE_LENGTH = 100
MAX_SEGMENT_KEYS = 50
MAX_SEGMENT_TEXT = 200
ROW_TEXT_LIMITS = {"respondent_key": 100, "external_id": 100, "language": 10}
ROW_FIELDS = frozenset({"unit", "answers", "submitted_at", "segment", *ROW_TEXT_LIMITS})

Errors = dict[str, list[str]]


class ShapeError(ValueError):
    """A value has the wrong shape; `errors` maps a (dotted) field name to messages."""

    def __init__(self, errors: Errors) -> None:
        super().__init__("; ".join(f"{key}: {' '.join(value)}" for key, value in errors.items()))
        self.errors = errors


def text_problem(value: str, limit: int) -> str:
    """Why `value` cannot be stored as text of at most `limit` characters ("" if it can)."""
    if len(value) > limit:
        return f"Keep it under {limit} characters."
    if "\x00" in value:
        return "Text must not contain NUL characters."
    return ""


def number_problem(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "Enter a finite number."
    if abs(value) > MAX_NUMBER:
        return f"Enter a number between {-MAX_NUMBER:g} and {MAX_NUMBER:g}."
    return ""


def answer_problem(value: Any) -> str:
    """Why an answer value has the wrong shape: a number, text, a list of option values, or
    null (no answer) are accepted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Give a number, text or option values, not true/false."
    if isinstance(value, int | float):
        return number_problem(value)
    if isinstance(value, str):
        return text_problem(value, MAX_TEXT_LENGTH)
    if isinstance(value, list):
        if len(value) > MAX_CHOICES:
            return f"Choose at most {MAX_CHOICES} options."
        for item in value:
            if not isinstance(item, str) or text_problem(item, MAX_CODE_LENGTH):
                return "Give the chosen options as a list of option values (text)."
        return ""
    return "Give a number, text, or a list of option values."


def check_answers(value: Any, prefix: str = "answers") -> dict[str, Any]:
    """The answers map {question code: value}, or ShapeError keyed `answers.<code>`."""
    if not isinstance(value, Mapping):
        raise ShapeError({prefix: ["Give the answers as an object of question code to value."]})
    if len(value) > MAX_ANSWERS:
        raise ShapeError({prefix: [f"Give at most {MAX_ANSWERS} answers."]})
    errors: Errors = {}
    for code, answer in value.items():
        if text_problem(code, MAX_CODE_LENGTH):
            errors[prefix] = ["Question codes are short texts."]
            continue
        problem = answer_problem(answer)
        if problem:
            errors[f"{prefix}.{code}" if prefix else code] = [problem]
    if errors:
        raise ShapeError(errors)
    return dict(value)


def check_segment(value: Any, prefix: str = "segment") -> dict[str, Any]:
    """Segment attributes {name: text or number}, or ShapeError."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or len(value) > MAX_SEGMENT_KEYS:
        message = f"Give the segment as an object of at most {MAX_SEGMENT_KEYS} attributes."
        raise ShapeError({prefix: [message]})
    for key, item in value.items():
        if text_problem(key, MAX_CODE_LENGTH):
            raise ShapeError({prefix: ["Segment attribute names are short texts."]})
        if isinstance(item, str) and not text_problem(item, MAX_SEGMENT_TEXT):
            continue
        is_number = isinstance(item, int | float) and not isinstance(item, bool)
        if is_number and not number_problem(item):
            continue
        raise ShapeError({f"{prefix}.{key}" if prefix else key: ["Give a short text or a number."]})
    return dict(value)


def check_datetime(value: Any, field: str) -> datetime:
    """An ISO 8601 date and time with a time zone, or ShapeError."""
    parsed = None
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    if parsed is None or timezone.is_naive(parsed):
        raise ShapeError({field: ["Give an ISO 8601 date and time with a time zone."]})
    return parsed


def check_bulk_row(row: Any) -> dict[str, Any]:
    """One bulk row, converted for `import_responses` (submitted_at parsed), or ShapeError."""
    if not isinstance(row, Mapping):
        raise ShapeError({"row": ["Each item must be an object."]})
    errors: Errors = {key: ["This field is not known."] for key in row if key not in ROW_FIELDS}
    clean: dict[str, Any] = {}
    unit = row.get("unit")
    if not isinstance(unit, str) or not unit or text_problem(unit, MAX_CODE_LENGTH):
        errors["unit"] = ["Give the code of the unit this response is about."]
    else:
        clean["unit"] = unit
    for name, limit in ROW_TEXT_LIMITS.items():
        value = row.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or text_problem(value, limit):
            errors[name] = [f"Give text of at most {limit} characters."]
        else:
            clean[name] = value
    for name, check in (("answers", check_answers), ("segment", check_segment)):
        try:
            clean[name] = check(row.get(name), name)
        except ShapeError as error:
            errors.update(error.errors)
    if row.get("submitted_at") is not None:
        try:
            clean["submitted_at"] = check_datetime(row["submitted_at"], "submitted_at")
        except ShapeError as error:
            errors.update(error.errors)
    if errors:
        raise ShapeError(errors)
    return clean
