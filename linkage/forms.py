"""Forms of the leadership pages: they check the shape of input; services check the rules."""

import json
from typing import Any

from django import forms

from surveys.models import Metric, OrgUnit

from .models import BarometerProposal, BarometerVote, Initiative, PerformanceExpectation


class ProposeBarometerForm(forms.Form):
    metric = forms.ModelChoiceField(queryset=Metric.objects.all())
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Why this one measure should be the headline everybody steers by.",
    )
    rule = forms.ChoiceField(
        choices=BarometerProposal.Rule.choices, initial=BarometerProposal.Rule.UNANIMOUS
    )
    quorum_share = forms.FloatField(
        min_value=0.01,
        max_value=1.0,
        initial=1.0,
        help_text="Quorum rule only: share of leaders who must approve, e.g. 0.75.",
    )


class VoteForm(forms.Form):
    decision = forms.ChoiceField(choices=BarometerVote.Decision.choices, widget=forms.RadioSelect)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


MAX_JSON_INPUT = 2000


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


class StrictJSONField(forms.JSONField):
    """JSON typed into a form: at most MAX_JSON_INPUT characters, standard JSON only (no NaN
    or Infinity), and nesting too deep for the parser is a form error, not a server error."""

    def _parse(self, value: str) -> Any:
        if len(value) > MAX_JSON_INPUT:
            raise ValueError(f"Keep it under {MAX_JSON_INPUT} characters.")
        return json.loads(value, parse_constant=_no_constants)

    def to_python(self, value: Any) -> Any:
        if self.disabled or value in self.empty_values or not isinstance(value, str):
            return super().to_python(value)
        try:
            return self._parse(value)
        except (ValueError, RecursionError):
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value[:80]}
            ) from None

    def bound_data(self, data: Any, initial: Any) -> Any:
        if self.disabled or not isinstance(data, str):
            return super().bound_data(data, initial)
        try:
            return self._parse(data)
        except (ValueError, RecursionError):
            return forms.fields.InvalidJSONInput(data)


class ExpectationForm(forms.Form):
    """Target group, extent and time frame are optional here on purpose: the service refuses
    an incomplete expectation with a message saying why each part is needed."""

    title = forms.CharField(max_length=200)
    metric = forms.ModelChoiceField(queryset=Metric.objects.all())
    unit = forms.ModelChoiceField(
        queryset=OrgUnit.objects.all(), required=False, label="Target group (unit)"
    )
    segment_filter = StrictJSONField(
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        label="Segment",
        help_text='Optional, narrows the target group, e.g. {"product": "X"}.',
    )
    baseline_period = forms.CharField(
        max_length=7, required=False, help_text="Period to measure from, e.g. 2026-01."
    )
    target_kind = forms.ChoiceField(choices=PerformanceExpectation.TargetKind.choices)
    target_change = forms.FloatField(
        required=False, label="Extent", help_text="e.g. −10 with relative = a 10 % reduction."
    )
    start_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_segment_filter(self) -> dict:
        segment = self.cleaned_data.get("segment_filter") or {}
        if not isinstance(segment, dict):
            raise forms.ValidationError('Write the segment as an object, e.g. {"product": "X"}.')
        return segment


class MoveInitiativeBackForm(forms.Form):
    stage = forms.TypedChoiceField(choices=Initiative.Stage.choices, coerce=int)
    reason = forms.CharField(max_length=500)
