"""Serializers of the survey API: output shapes of resources, and input shapes that check
types and sizes only (business rules live in the services)."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api.errors import ApiError
from common.api.serializers import StrictSerializer
from common.exceptions import CappedItemErrors
from common.net import public_base_url
from surveys.models import Choice, Invitation, Metric, MetricValue, OrgUnit, Question, Survey
from surveys.services import MAX_IMPORT_ROWS, MAX_INVITATIONS

from .filters import UnitPeriodQuerySerializer
from .shapes import ShapeError, check_answers, check_bulk_row, check_segment

# ------------------------------------------------------------------ resources (output)


class OrgUnitSerializer(serializers.ModelSerializer):
    parent: serializers.SlugRelatedField[OrgUnit] = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = OrgUnit
        fields = ["code", "name", "level", "parent", "depth"]


class ChoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Choice
        fields = ["value", "label", "score", "order"]


class QuestionSerializer(serializers.ModelSerializer):
    choices = ChoiceSerializer(many=True, read_only=True)

    class Meta:
        model = Question
        fields = [
            *("code", "order", "type", "text", "help_text", "required"),
            *("min_value", "max_value", "low_label", "high_label"),
            *("journey_stage", "metric_key", "grid", "choices"),
            *("show_if_question", "show_if_operator", "show_if_value"),
        ]


class SurveySerializer(serializers.ModelSerializer):
    root_unit: serializers.SlugRelatedField[OrgUnit] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    response_count = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Null for employee and anonymous surveys: their respondents are counted "
        "only per released group (metric values' n).",
    )
    question_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Survey
        fields = [
            *("slug", "title", "audience", "kind", "status", "anonymous"),
            *("anonymity_threshold", "period_granularity", "languages", "root_unit"),
            *("opened_at", "closed_at", "question_count", "response_count"),
        ]


class SurveyDetailSerializer(SurveySerializer):
    questions = QuestionSerializer(many=True, read_only=True)

    class Meta(SurveySerializer.Meta):
        fields = [*SurveySerializer.Meta.fields, "intro", "questions"]


# ------------------------------------------------------------------ answers and submissions


def _field_errors(error: ShapeError) -> dict[str, list[str]] | list[str]:
    """Errors of a whole-value check (key "") belong to the field itself, so they render as
    `answers`, not `answers.answers`; others are keyed by question code or attribute."""
    if "" in error.errors:
        return error.errors[""]
    return error.errors


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "nullable": True,
            "oneOf": [
                {"type": "number"},
                {"type": "string", "maxLength": 5000},
                {"type": "array", "items": {"type": "string"}, "maxItems": 100},
            ],
        },
        "description": "Question code → a number, text, or a list of option values.",
    }
)
class AnswersField(serializers.Field):
    """{question code: number | text | [option values]}; errors keyed by question code."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        try:
            return check_answers(data, prefix="")
        except ShapeError as error:
            raise serializers.ValidationError(_field_errors(error)) from None

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "number"}]},
        "description": 'Segment attributes, e.g. {"product": "X", "region": "north"}.',
    }
)
class SegmentField(serializers.Field):
    def to_internal_value(self, data: Any) -> dict[str, Any]:
        try:
            return check_segment(data, prefix="")
        except ShapeError as error:
            raise serializers.ValidationError(_field_errors(error)) from None

    def to_representation(self, value: Any) -> Any:
        return value


class SubmissionInputSerializer(StrictSerializer):
    """One response from a respondent: a survey, and either a unit code (public link) or an
    invitation token (personal link)."""

    survey = serializers.SlugField(max_length=80)
    unit = serializers.SlugField(max_length=40, required=False)
    token = serializers.CharField(max_length=64, required=False)
    answers = AnswersField()
    language = serializers.CharField(max_length=10, required=False, allow_blank=True)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if ("unit" in data) == ("token" in data):
            raise serializers.ValidationError(
                {"unit": ["Give either the unit code (public link) or the invitation token."]}
            )
        return data


class SubmissionResultSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    survey = serializers.CharField()
    period = serializers.CharField()


@extend_schema_field(
    {
        "type": "object",
        "required": ["unit", "answers"],
        "additionalProperties": False,
        "properties": {
            "unit": {"type": "string", "maxLength": 100},
            "answers": {
                "type": "object",
                "description": "Question code → a number, text, or a list of option values.",
            },
            "submitted_at": {"type": "string", "format": "date-time"},
            "respondent_key": {"type": "string", "maxLength": 100},
            "external_id": {"type": "string", "maxLength": 100},
            "language": {"type": "string", "maxLength": 10},
            "segment": {"type": "object"},
        },
    }
)
class BulkRowField(serializers.Field):
    """One row of a bulk submission, checked in a plain loop (see `shapes`)."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        try:
            return check_bulk_row(data)
        except ShapeError as error:
            raise serializers.ValidationError(error.errors) from None

    def to_representation(self, value: Any) -> Any:
        return value


class BulkRowsField(serializers.ListField):
    """The rows, with errors of several rows reported together, keyed by row index."""

    child = BulkRowField()

    def run_child_validation(self, data: list[Any]) -> list[dict[str, Any]]:
        if len(data) > MAX_IMPORT_ROWS:  # before checking rows one by one
            raise ApiError(
                f"At most {MAX_IMPORT_ROWS:,} responses per request; got {len(data):,}. "
                "Split them into smaller batches.",
                status_code=413,
                code="import_too_large",
            )
        rows, errors = [], CappedItemErrors()
        for index, item in enumerate(data):
            try:
                rows.append(check_bulk_row(item))
            except ShapeError as error:
                errors.add(index, error.errors)
        if errors:
            message = "Some items are not valid."
            if errors.omitted:
                message += f" The first {len(errors.shown)} are listed, the rest counted."
            raise ApiError(
                message,
                items={str(index): problems for index, problems in errors.shown.items()},
                omitted=errors.omitted,
            )
        return rows


class BulkSubmissionInputSerializer(StrictSerializer):
    responses = BulkRowsField(min_length=1, max_length=MAX_IMPORT_ROWS)


class BulkResultSerializer(serializers.Serializer):
    responses = serializers.IntegerField(help_text="Responses written.")
    answers = serializers.IntegerField(help_text="Answers written.")
    periods = serializers.ListField(child=serializers.CharField())


# ------------------------------------------------------------------ invitations


class ContactSerializer(StrictSerializer):
    contact = serializers.CharField(max_length=254, required=False, allow_blank=True)
    customer_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    segment = SegmentField(required=False)


class InvitationBatchInputSerializer(StrictSerializer):
    unit = serializers.SlugField(max_length=40)
    count = serializers.IntegerField(min_value=1, max_value=MAX_INVITATIONS, required=False)
    contacts = ContactSerializer(
        many=True,
        required=False,
        min_length=1,
        max_length=MAX_INVITATIONS,  # type: ignore[call-arg]
    )
    expires_in_days = serializers.IntegerField(
        min_value=1, max_value=365, required=False, allow_null=True, default=30
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "count" not in data and "contacts" not in data:
            raise serializers.ValidationError(
                {"count": ["Give a number of links, or contacts to invite."]}
            )
        return data


class InvitationSerializer(serializers.ModelSerializer):
    unit: serializers.SlugRelatedField[OrgUnit] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["token", "url", "unit", "contact", "customer_id", "expires_at"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, invitation: Invitation) -> str:
        return public_base_url(self.context.get("request")) + invitation.get_absolute_url()


class InvitationBatchSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    invitations = InvitationSerializer(many=True)


# ------------------------------------------------------------------ metrics and values

MAX_METRIC_KEYS = 50


class MetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = Metric
        fields = [
            *("key", "name", "description", "source", "aggregation", "direction"),
            *("chain_stage", "perspective", "level", "unit_label"),
        ]


class MetricKeysField(serializers.CharField):
    """Comma-separated metric keys ("customer.nps,employee.enps")."""

    def to_internal_value(self, data: Any) -> list[str]:  # type: ignore[override]
        text = super().to_internal_value(data)
        # CharField's NUL check runs on the returned value, here a list, where it sees none.
        if "\x00" in text:
            raise serializers.ValidationError("Null characters are not allowed.")
        keys = [key.strip() for key in text.split(",") if key.strip()]
        if not keys or len(keys) > MAX_METRIC_KEYS:
            raise serializers.ValidationError(f"Give 1 to {MAX_METRIC_KEYS} metric keys.")
        return keys


class MetricValueQuerySerializer(UnitPeriodQuerySerializer):
    """Filters of metric values: metric keys, unit (subtree), period range and unit level."""

    metric = MetricKeysField(max_length=2000, required=False)
    level = serializers.ChoiceField(choices=OrgUnit.Level.choices, required=False)


class MetricValueSerializer(serializers.ModelSerializer):
    """One cell; suppressed cells have value, interval and n null, and no flags."""

    metric = serializers.CharField(source="metric.key")
    unit = serializers.CharField(source="unit.code")
    unit_name = serializers.CharField(source="unit.name")
    level = serializers.CharField(source="unit.level")
    n = serializers.IntegerField(allow_null=True)
    flags = serializers.SerializerMethodField(
        help_text='Plausibility flags of the estimate: "low_n", "too_good_to_be_true".'
    )

    class Meta:
        model = MetricValue
        fields = [
            *("metric", "unit", "unit_name", "level", "period", "value"),
            *("ci_low", "ci_high", "n", "suppressed", "flags", "source", "computed_at"),
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_flags(self, row: MetricValue) -> list[str]:
        return list((row.details or {}).get("flags", []))
