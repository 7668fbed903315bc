"""Forms of the custom survey admin pages; they check shape, the services check rules."""

import csv
import io
import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect

from ..library import template_choices
from ..models import Invitation, OrgUnit, Survey
from ..services import MAX_EXPIRY_DAYS, MAX_INVITATIONS

CONTACTS_MAX_BYTES = 2 * 1024 * 1024
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
CONTACT_COLUMNS = ("email", "customer_id", "segment")


class SurveyAdminForm(forms.ModelForm):
    class Meta:
        model = Survey
        fields = (
            "title",
            "slug",
            "intro",
            "thank_you",
            "audience",
            "kind",
            "root_unit",
            "anonymous",
            "anonymity_threshold",
            "allow_public_link",
            "one_answer_per_browser",
            "public_answers_per_address",
            "reporting_attributes",
            "release_mode",
            "period_granularity",
            "languages",
        )

    def clean_reporting_attributes(self) -> list[str]:
        value = self.cleaned_data.get("reporting_attributes") or []
        if not isinstance(value, list) or not all(
            isinstance(name, str) and _ATTRIBUTE_NAME.match(name) for name in value
        ):
            raise forms.ValidationError(
                'Give a list of attribute names, e.g. ["role", "tenure"] (letters, digits, _).'
            )
        return value

    def clean_languages(self) -> list[str]:
        value = self.cleaned_data.get("languages") or []
        known = [code for code, _ in settings.LANGUAGES]
        if not isinstance(value, list) or not all(code in known for code in value):
            raise forms.ValidationError(
                f"Give a list of language codes from {', '.join(known)}, default first, "
                'e.g. ["en", "de"].'
            )
        return list(dict.fromkeys(value))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("audience") == Survey.Audience.EMPLOYEE:
            threshold = cleaned.get("anonymity_threshold") or 0
            if threshold == 0:
                cleaned["anonymity_threshold"] = settings.DEFAULT_EMPLOYEE_ANONYMITY_THRESHOLD
            elif threshold < 3:
                self.add_error("anonymity_threshold", "Employee surveys need at least 3.")
        return cleaned


def _use_autocomplete(form_field: Any, model_field: Any, admin_site: admin.AdminSite) -> None:
    """Search units as the admin's own foreign-key fields do, instead of listing them all."""
    form_field.widget = AutocompleteSelect(model_field, admin_site)
    form_field.widget.choices = form_field.choices  # a new widget needs the field's choices


class SurveyFromTemplateForm(forms.Form):
    template_key = forms.ChoiceField(
        label="Template", choices=template_choices, widget=forms.RadioSelect
    )
    title = forms.CharField(
        max_length=200, required=False, help_text="Leave empty to use the template's title."
    )
    slug = forms.SlugField(
        max_length=80,
        required=False,
        help_text="The survey's address /s/&lt;slug&gt;/. Leave empty to make one from the title.",
    )
    root_unit = forms.ModelChoiceField(
        queryset=OrgUnit.objects.all(),
        required=False,
        help_text="Units below this one may answer; empty means any unit.",
    )

    def __init__(self, *args, admin_site: admin.AdminSite, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _use_autocomplete(self.fields["root_unit"], Survey._meta.get_field("root_unit"), admin_site)


class IssueInvitationsForm(forms.Form):
    unit = forms.ModelChoiceField(
        queryset=OrgUnit.objects.all(), help_text="The unit the answers will count for."
    )
    count = forms.IntegerField(
        label="Number of invitations",
        min_value=1,
        max_value=MAX_INVITATIONS,
        required=False,
        help_text="Leave empty when uploading contacts: one invitation per contact.",
    )
    expires_in_days = forms.IntegerField(
        label="Expire after (days)", min_value=1, max_value=MAX_EXPIRY_DAYS, initial=30
    )
    contacts_file = forms.FileField(
        label="Contacts (CSV)",
        required=False,
        help_text="Optional. A header row with the columns email, customer_id, segment "
        "(segment as product=X;region=north), then one contact per line.",
    )

    def __init__(self, *args, admin_site: admin.AdminSite, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _use_autocomplete(self.fields["unit"], Invitation._meta.get_field("unit"), admin_site)

    def clean_contacts_file(self) -> list[dict[str, str | int]] | None:
        upload = self.cleaned_data.get("contacts_file")
        if not upload:
            return None
        if upload.size > CONTACTS_MAX_BYTES:
            raise forms.ValidationError("The contacts file is larger than 2 MB; split it.")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("Save the contacts file as UTF-8 CSV.") from None
        return read_contacts_csv(text)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        nothing_asked = cleaned.get("count") is None and not cleaned.get("contacts_file")
        if nothing_asked and not self.has_error("contacts_file"):
            self.add_error("count", "Give a number of invitations or upload contacts.")
        return cleaned


def read_contacts_csv(text: str) -> list[dict[str, str | int]]:
    """Rows of a contacts CSV as service rows ("contact", "customer_id", "segment", "line").

    Checks the shape only (header, column count); the service checks the values.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    unknown = [name for name in header if name not in CONTACT_COLUMNS]
    if unknown or not {"email", "customer_id"} & set(header):
        raise forms.ValidationError(
            "Line 1: the header must name the columns email, customer_id, segment "
            f"(got: {', '.join(header) or 'nothing'})."
        )
    reader.fieldnames = header
    rows: list[dict[str, str | int]] = []
    try:
        for row in reader:
            if None in row:
                raise forms.ValidationError(
                    f"Line {reader.line_num}: more values than columns in the header."
                )
            email, customer_id, segment = (
                (row.get(name) or "").strip() for name in CONTACT_COLUMNS
            )
            if email or customer_id or segment:
                rows.append(
                    {
                        "contact": email,
                        "customer_id": customer_id,
                        "segment": segment,
                        "line": reader.line_num,
                    }
                )
    except csv.Error as error:
        raise forms.ValidationError(f"Line {reader.line_num}: {error}.") from None
    if not rows:
        raise forms.ValidationError("The contacts file has no contacts below its header.")
    return rows
