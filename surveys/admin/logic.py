"""Question logic in the admin: the survey's question list and a question's own page refuse
logic that refers to a later or missing question (`surveys.logic.logic_problems`), the same
check that keeps such a survey from opening."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from ..logic import logic_problems
from ..models import Choice, Question, Survey


def _options_of(survey: Survey | None) -> dict[str, list[str]]:
    if survey is None or survey.pk is None:
        return {}
    options: dict[str, list[str]] = {}
    rows = Choice.objects.filter(question__survey=survey).values_list("question__code", "value")
    for code, value in rows:
        options.setdefault(code, []).append(value)
    return options


def _in_display_order(questions: list[Question]) -> list[Question]:
    return sorted(questions, key=lambda question: (question.order, question.pk or 10**18))


class QuestionLogicFormSet(forms.BaseInlineFormSet):
    """The survey page's question list, checked as a whole (order and codes may change)."""

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        kept = [
            form.instance
            for form in self.forms
            if (form.has_changed() or form.instance.pk)
            and not form.cleaned_data.get("DELETE", False)
        ]
        problems = logic_problems(_in_display_order(kept), _options_of(self.instance))
        if problems:
            raise ValidationError(
                [f"Question {code}: {' '.join(texts)}" for code, texts in problems.items()]
            )


class QuestionLogicForm(forms.ModelForm):
    """A question's own page: its logic checked against the survey's other questions."""

    class Meta:
        model = Question
        fields = (
            *("survey", "code", "order", "type", "text", "help_text", "required"),
            *("min_value", "max_value", "low_label", "high_label", "journey_stage"),
            *("metric_key", "grid", "show_if_question", "show_if_operator", "show_if_value"),
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        question = self.instance
        survey = cleaned.get("survey") or getattr(question, "survey", None)
        if survey is None or self.errors:
            return cleaned
        for field in ("code", "order", "show_if_question", "show_if_operator", "show_if_value"):
            if field in cleaned:
                setattr(question, field, cleaned[field])
        others = list(Question.objects.filter(survey=survey).exclude(pk=question.pk))
        problems = logic_problems(_in_display_order([*others, question]), _options_of(survey))
        mine = problems.pop(question.code, [])
        dependants = [
            code
            for code in problems
            if any(
                other.code == code and other.show_if_question == question.code for other in others
            )
        ]
        if mine:
            raise ValidationError(mine)
        if dependants:
            raise ValidationError(
                f"Question(s) {', '.join(dependants)} depend on this one and must come after it."
            )
        return cleaned
