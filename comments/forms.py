"""Forms of the comments pages: shape only; selectors decide what may be read."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from surveys.models import OrgUnit, Survey


class ThemePickerForm(forms.Form):
    survey: forms.ModelChoiceField[Survey] = forms.ModelChoiceField(
        queryset=Survey.objects.none(), empty_label=None
    )
    unit = forms.ChoiceField()

    def __init__(self, *args, surveys: QuerySet[Survey], units: QuerySet[OrgUnit], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survey"].queryset = surveys  # type: ignore[attr-defined]
        self.fields["unit"].choices = [  # type: ignore[attr-defined]
            (unit.code, "\u2003" * (unit.depth - 1) + unit.name) for unit in units
        ]


class CommentSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search comments")
