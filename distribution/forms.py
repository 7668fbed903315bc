"""Forms of distribution pages and admin views: shape only; services check the rules."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import User

from surveys.models import OrgUnit, Survey

from .models import FollowUpCase, WaveSchedule

MAX_CONTACT_FILE_BYTES = 20 * 1024 * 1024


class ContactUploadForm(forms.Form):
    file = forms.FileField(
        help_text="CSV, UTF-8, header unit_code,email and optionally customer_id, language, "
        "audience (customer or employee); other columns become segment attributes."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CONTACT_FILE_BYTES:
            raise forms.ValidationError("The file is larger than 20 MB; split it.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None


class InviteContactsForm(forms.Form):
    survey: forms.ModelChoiceField[Survey] = forms.ModelChoiceField(
        queryset=Survey.objects.exclude(status=Survey.Status.CLOSED).order_by("title")
    )
    unit = forms.ModelChoiceField(
        queryset=OrgUnit.objects.order_by("path"),
        required=False,
        help_text="Only contacts of this unit and below; empty: every contact of the audience.",
    )


class CaseUpdateForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    note = forms.CharField(required=False, max_length=5000, widget=forms.Textarea({"rows": 3}))

    def __init__(self, *args, owners=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if owners is not None:
            self.fields["owner"].queryset = owners  # type: ignore[attr-defined]


class CaseCloseForm(forms.Form):
    outcome = forms.ChoiceField(choices=FollowUpCase.Outcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(required=False, max_length=5000, widget=forms.Textarea({"rows": 3}))


class RatesForm(forms.Form):
    """Either a pulse schedule (its waves) or one survey, and a unit."""

    schedule = forms.ModelChoiceField(
        queryset=WaveSchedule.objects.order_by("name"), required=False
    )
    survey: forms.ModelChoiceField[Survey] = forms.ModelChoiceField(
        queryset=Survey.objects.order_by("title"), required=False
    )
    unit = forms.ModelChoiceField(
        queryset=OrgUnit.objects.none(), to_field_name="code", required=False
    )

    def __init__(self, *args, units=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if units is not None:
            self.fields["unit"].queryset = units  # type: ignore[attr-defined]
