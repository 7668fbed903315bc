"""Serializers of the linkage API: linkage runs and results, outcome imports, the barometer
and performance expectations."""

import math
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from common.api.serializers import StrictSerializer
from surveys.api.filters import PeriodField
from surveys.api.serializers import MAX_METRIC_KEYS, MetricSerializer
from surveys.models import OrgUnit

from ..models import (
    Barometer,
    LinkageResult,
    LinkageRun,
    OutcomeImport,
    PerformanceExpectation,
)
from ..services.runs import MAX_LAG

MAX_OUTCOME_ROWS = 50_000


# ------------------------------------------------------------------ linkage runs


class LinkageRunInputSerializer(StrictSerializer):
    level = serializers.ChoiceField(choices=OrgUnit.Level.choices, default=OrgUnit.Level.STORE)
    first_period = PeriodField(required=False)
    last_period = PeriodField(required=False)
    metric_keys = serializers.ListField(
        child=serializers.CharField(max_length=80),
        required=False,
        min_length=2,
        max_length=MAX_METRIC_KEYS,
        help_text="Metrics to correlate; default: every metric with values at the level.",
    )
    max_lag = serializers.IntegerField(min_value=0, max_value=MAX_LAG, default=1)


class LinkageRunSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)

    class Meta:
        model = LinkageRun
        fields = [
            *("id", "status", "progress", "error", "level", "first_period", "last_period"),
            *("metric_keys", "max_lag", "created_by", "created_at", "started_at"),
            *("finished_at", "data_snapshot_at", "n_units", "excluded_cells", "warnings"),
            "key_drivers",
        ]


class LinkageResultSerializer(serializers.ModelSerializer):
    x_metric = serializers.CharField(source="x_metric.key")
    y_metric = serializers.CharField(source="y_metric.key")

    class Meta:
        model = LinkageResult
        fields = [
            *("x_metric", "y_metric", "lag", "n_pairs", "n_units", "r", "r_low", "r_high"),
            *("p", "spearman", "spearman_p", "within_r", "within_p", "between_r", "between_p"),
            *("slope_within", "slope_within_low", "slope_within_high", "q", "within_q"),
            "warnings",
            "snapshot_at",
        ]


# ------------------------------------------------------------------ outcomes


class OutcomeRowSerializer(StrictSerializer):
    unit = serializers.SlugField(max_length=40)
    period = serializers.CharField(max_length=7)
    metric = serializers.CharField(max_length=80)
    value = serializers.FloatField()
    denominator = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text=(
            "What a mean or rate is taken over (customers for retention): parents are weighted "
            "by it. Optional; without it parents are weighted by their units with a value."
        ),
    )

    def validate_value(self, value: float) -> float:
        if not math.isfinite(value) or abs(value) > 1e15:
            raise serializers.ValidationError("Give a finite number below 1e15.")
        return value

    def validate_denominator(self, denominator: float | None) -> float | None:
        if denominator is not None and not (math.isfinite(denominator) and denominator > 0):
            raise serializers.ValidationError("Give a finite number greater than 0.")
        return denominator


class OutcomeInputSerializer(StrictSerializer):
    """Either `rows` (objects) or `csv` (text with the header unit_code,period,metric_key,value,
    optionally followed by denominator)."""

    rows = OutcomeRowSerializer(
        many=True,
        required=False,
        min_length=1,
        max_length=MAX_OUTCOME_ROWS,  # type: ignore[call-arg]
    )
    csv = serializers.CharField(required=False, max_length=20_000_000, trim_whitespace=False)
    skip_bad = serializers.BooleanField(default=False)
    create_metrics = serializers.BooleanField(default=False)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if ("rows" in data) == ("csv" in data):
            raise serializers.ValidationError({"rows": ["Give either rows or csv text."]})
        return data


class OutcomeOptionsSerializer(serializers.Serializer):
    """Query options of a text/csv upload."""

    skip_bad = serializers.BooleanField(default=False)
    create_metrics = serializers.BooleanField(default=False)


class OutcomeImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutcomeImport
        fields = ["id", "status", "lines_total", "lines_written", "errors", "created_at"]


# ------------------------------------------------------------------ leadership


@extend_schema_serializer(many=False)
class BarometerSerializer(serializers.ModelSerializer):
    metric = MetricSerializer()
    rationale = serializers.CharField(source="proposal.rationale")
    agreed_at = serializers.DateTimeField(source="proposal.decided_at")

    class Meta:
        model = Barometer
        fields = ["metric", "rationale", "started_at", "agreed_at"]


class ExpectationSerializer(serializers.ModelSerializer):
    metric = serializers.CharField(source="metric.key")
    unit = serializers.CharField(source="unit.code")
    owner = serializers.CharField(source="owner.username")

    class Meta:
        model = PerformanceExpectation
        fields = [
            *("id", "title", "metric", "unit", "segment_filter", "baseline_period"),
            *("baseline_value", "baseline_n", "target_kind", "target_change", "target_value"),
            *("start_date", "end_date", "owner", "status", "latest_period", "latest_value"),
            *("latest_n", "latest_ci_low", "latest_ci_high", "status_checked_at"),
        ]
