"""Validation of raw answers against a survey's questions (shape and range, no writes).

Shared by the web form, the API and imports so that every channel accepts exactly the same
values. Raw answers map question codes to a number, a string, or a list of choice values.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from . import logic
from .models import Choice, Question

MAX_TEXT_LENGTH = 5000


@dataclass
class CleanAnswer:
    question: Question
    number: float | None = None
    text: str = ""
    choice: Choice | None = None
    choices: list[Choice] = field(default_factory=list)


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def _range_message(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return _("Choose a value from %(low)s to %(high)s.") % {
            "low": f"{low:g}",
            "high": f"{high:g}",
        }
    if low is not None:
        return _("Value must be at least %(low)s.") % {"low": f"{low:g}"}
    return _("Value must be at most %(high)s.") % {"high": f"{high:g}"}


def _clean_number(question: Question, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(_("Enter a number."))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(_("Enter a number.")) from None
    if not math.isfinite(number):
        raise ValueError(_("Enter a number."))
    low, high = question.bounds()
    # Scales and ratings are points to pick (0–10, 1–5 stars): only numbers may be fractional.
    if question.type != Question.Type.NUMBER and not number.is_integer():
        if low is not None and high is not None:
            raise ValueError(
                _("Choose a whole number from %(low)s to %(high)s.")
                % {"low": f"{low:g}", "high": f"{high:g}"}
            )
        raise ValueError(_("Choose a whole number."))
    if low is not None and number < low:
        raise ValueError(_range_message(low, high))
    if high is not None and number > high:
        raise ValueError(_range_message(low, high))
    return number


def _clean_choices(question: Question, value: Any, choices: Mapping[str, Choice]) -> list[Choice]:
    values = value if isinstance(value, list | tuple) else [value]
    if question.type == Question.Type.SINGLE and len(values) != 1:
        raise ValueError(_("Choose one option."))
    picked = []
    for item in values:
        if not isinstance(item, str) or item not in choices:
            raise ValueError(_("'%(value)s' is not one of the options.") % {"value": item})
        picked.append(choices[item])
    if len({choice.pk for choice in picked}) != len(picked):
        raise ValueError(_("An option was chosen twice."))
    return picked


def _clean_one(question: Question, value: Any, choices: Mapping[str, Choice]) -> CleanAnswer:
    if question.type == Question.Type.TEXT:
        if not isinstance(value, str | int | float):
            raise ValueError(_("Enter text."))
        text = str(value).strip()
        if "\x00" in text:  # PostgreSQL text cannot hold NUL; it is never typed on purpose
            raise ValueError(_("Remove the invisible NUL character from this answer."))
        if len(text) > MAX_TEXT_LENGTH:
            raise ValueError(_("Keep it under %(count)s characters.") % {"count": MAX_TEXT_LENGTH})
        return CleanAnswer(question, text=text)
    if question.is_choice:
        picked = _clean_choices(question, value, choices)
        if question.type == Question.Type.SINGLE:
            return CleanAnswer(question, number=picked[0].score, choice=picked[0])
        return CleanAnswer(question, choices=picked)
    return CleanAnswer(question, number=_clean_number(question, value))


def clean_answers(
    questions: Iterable[Question], raw: Mapping[str, Any]
) -> tuple[list[CleanAnswer], dict[str, list[str]]]:
    """Validate raw answers; return the clean ones and errors keyed by question code.

    Questions hidden by logic (`surveys.logic`) are skipped: not required, answers dropped.
    Unknown question codes are errors (keyed by the unknown code). Questions must come with
    their choices prefetched (`prefetch_related("choices")`) to avoid a query per question.
    """
    by_code = {question.code: question for question in questions}
    errors: dict[str, list[str]] = {
        code: [_("This question is not part of the survey.")] for code in raw if code not in by_code
    }
    cleaned: list[CleanAnswer] = []
    shown: dict[str, logic.Value] = {}  # answers of shown questions, for later conditions
    for code, question in by_code.items():
        if not logic.is_shown(question, shown):
            continue  # hidden by logic: neither required nor stored, whatever was sent
        value = raw.get(code)
        if isinstance(value, str) and question.type != Question.Type.TEXT:
            value = value.strip()
        if _is_blank(value) or (question.type == Question.Type.TEXT and not str(value).strip()):
            if question.required:
                errors[code] = [_("This question is required.")]
            continue
        # Only choice questions read their options: `.all()` clones a queryset per call, which
        # dominated the cost of validating a 10,000-row import.
        choices = (
            {choice.value: choice for choice in question.choices.all()}
            if question.is_choice
            else {}
        )
        try:
            answer = _clean_one(question, value, choices)
        except ValueError as error:
            errors[code] = [str(error)]
        else:
            cleaned.append(answer)
            shown[code] = _logic_value(answer)
    return cleaned, errors


def _logic_value(answer: CleanAnswer) -> logic.Value:
    if answer.choice is not None:
        return answer.choice.value
    if answer.choices:
        return [choice.value for choice in answer.choices]
    return answer.number if answer.number is not None else answer.text
