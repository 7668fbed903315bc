"""The respondent form: one field per question, built once per survey definition and language.

The form checks shape only (one value or a list of values, text length). Ranges, required
answers and choice membership are decided by `surveys.services.submit_response`, so the web
page, the API and imports accept exactly the same answers; the service's errors are attached
back to the fields with `ResponseForm.apply_errors`.
"""

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .answers import MAX_TEXT_LENGTH
from .models import OrgUnit, Question

# Wider scales do not fit a phone screen as a row of radios; they become a number input.
MAX_RADIO_POINTS = 11
# Question codes are slugs, so a prefix keeps them clear of "unit" and "csrfmiddlewaretoken".
FIELD_PREFIX = "q_"
UNIT_FIELD = "unit"
UNIT_LABEL = _("Which store or team is this about?")
UNIT_REQUIRED = _("Choose the store or team this answer is about.")


def scale_points(question: Question) -> list[int] | None:
    """The radio values of a scale question, or None when it is better shown as a number input."""
    if question.type not in Question.SCALES and question.type != Question.Type.RATING:
        return None
    low, high = question.bounds()
    if low is None or high is None or not (float(low).is_integer() and float(high).is_integer()):
        return None
    if not 1 < high - low + 1 <= MAX_RADIO_POINTS:
        return None
    return list(range(int(low), int(high) + 1))


class ListField(forms.Field):
    """Several submitted values (checkboxes); which values are allowed is the service's call."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value: Any) -> list[str]:
        if value in self.empty_values:
            return []
        if not isinstance(value, list | tuple):
            raise ValidationError(_("Choose from the options."), code="invalid_list")
        return [str(item) for item in value]


def _number_attrs(question: Question) -> dict[str, str]:
    attrs = {"step": "any", "inputmode": "decimal"}
    low, high = question.bounds()
    if low is not None:
        attrs["min"] = f"{low:g}"
    if high is not None:
        attrs["max"] = f"{high:g}"
    return attrs


def field_for(question: Question) -> tuple[str, forms.Field]:
    """The kind of control (names the template block) and an unrequired shape-only field."""
    points = scale_points(question)
    if points is not None:
        options = [(str(point), str(point)) for point in points]
        return "scale", forms.CharField(required=False, widget=forms.RadioSelect(choices=options))
    choices = [(choice.value, choice.label) for choice in question.choices.all()]
    if question.type == Question.Type.SINGLE:
        return "single", forms.CharField(required=False, widget=forms.RadioSelect(choices=choices))
    if question.type == Question.Type.MULTI:
        checkboxes = forms.CheckboxSelectMultiple(choices=choices)
        return "multi", ListField(required=False, widget=checkboxes)
    if question.type == Question.Type.TEXT:
        textarea = forms.Textarea(attrs={"rows": 4})
        return "text", forms.CharField(required=False, max_length=MAX_TEXT_LENGTH, widget=textarea)
    number = forms.NumberInput(attrs=_number_attrs(question))
    return "number", forms.CharField(required=False, max_length=40, widget=number)


def question_fields(
    questions: Iterable[Question], kept: MutableMapping[str, dict] | None = None
) -> dict[str, tuple[str, forms.Field]]:
    """Each question's control kind and labelled field, by code, in the active language.

    With `kept` (a survey definition's `fields`) they are built once per language and
    definition and shared by every form of it.
    """
    language = translation.get_language()
    if kept is not None and language in kept:
        return kept[language]
    built = {}
    for question in questions:
        kind, field = field_for(question)
        field.label = question.text
        built[question.code] = (kind, field)
    if kept is not None:
        kept[language] = built
    return built


@dataclass(frozen=True)
class QuestionEntry:
    """One question with its bound field and the ids that tie help and errors to it."""

    question: Question
    field: forms.BoundField
    kind: str

    @property
    def dom_id(self) -> str:
        return f"question-{self.question.code}"

    @property
    def help_id(self) -> str:
        return f"{self.dom_id}-help"

    @property
    def error_id(self) -> str:
        return f"{self.dom_id}-error"

    @property
    def input_id(self) -> str:
        return self.field.id_for_label

    @property
    def is_group(self) -> bool:
        return self.kind in ("scale", "single", "multi")

    @property
    def anchor(self) -> str:
        """Where the error summary links to: the control, or a group's first option."""
        return f"{self.field.auto_id}_0" if self.is_group else self.input_id

    @property
    def described_by(self) -> str:
        ids = [self.help_id] if self.question.help_text else []
        if self.field.errors:
            ids.append(self.error_id)
        return " ".join(ids)

    @property
    def low_label(self) -> str:
        return self.question.endpoint_labels()[0]

    @property
    def high_label(self) -> str:
        return self.question.endpoint_labels()[1]

    @property
    def grid_title(self) -> str:
        """The heading of the question's grid: "purposeful_leadership" → "Purposeful leadership"."""
        return self.question.grid.replace("_", " ").replace("-", " ").strip().capitalize()

    @property
    def point_count(self) -> int:
        return len(self.field.field.widget.choices)


class ResponseForm(forms.Form):
    """Answers to one survey; `unit_choices` adds the store/team select of a public link."""

    # Required answers are checked on the server so every error appears next to its field.
    use_required_attribute = False

    def __init__(
        self,
        *args: Any,
        questions: Iterable[Question],
        unit_choices: QuerySet[OrgUnit] | None = None,
        kept_fields: MutableMapping[str, dict] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        self.kinds: dict[str, str] = {}
        built = question_fields(self.questions, kept_fields)
        for question in self.questions:
            kind, field = built[question.code]
            # Shared, not deep-copied as Django's declared fields are (0.9 ms a request):
            # nothing assigns to these fields or their widgets after `question_fields`;
            # bound values and errors live on the form.
            self.fields[FIELD_PREFIX + question.code] = field
            self.kinds[question.code] = kind
        if unit_choices is not None:
            self.fields[UNIT_FIELD] = forms.ModelChoiceField(
                queryset=unit_choices,
                to_field_name="code",
                label=UNIT_LABEL,
                empty_label=_("Choose…"),
                error_messages={"required": UNIT_REQUIRED, "invalid_choice": UNIT_REQUIRED},
            )

    @property
    def has_unit_field(self) -> bool:
        return UNIT_FIELD in self.fields

    def entries(self) -> list[QuestionEntry]:
        return [
            QuestionEntry(question, self[FIELD_PREFIX + question.code], self.kinds[question.code])
            for question in self.questions
        ]

    def has_question_errors(self) -> bool:
        return any(name != UNIT_FIELD for name in self.errors)

    def answers(self) -> dict[str, Any]:
        """Raw answers keyed by question code, as the service expects them."""
        return {
            question.code: self.cleaned_data.get(FIELD_PREFIX + question.code)
            for question in self.questions
        }

    def selected_unit(self) -> OrgUnit | None:
        return self.cleaned_data.get(UNIT_FIELD) if self.has_unit_field else None

    def apply_errors(self, errors: Mapping[str, list[str]]) -> None:
        """Show the service's errors (keyed by question code) next to their fields."""
        for code, messages in errors.items():
            name = FIELD_PREFIX + code
            for message in messages:
                self.add_error(name if name in self.fields else None, message)

    def add_unit_error(self, message: str) -> None:
        if self.has_unit_field and not self.has_error(UNIT_FIELD):
            self.add_error(UNIT_FIELD, message)
