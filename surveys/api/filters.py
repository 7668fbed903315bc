"""Query filters of the API: django-filter sets for resources, and the shared unit and
period-range parameters (validated by a serializer, so bad values are 400s)."""

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from surveys import periods
from surveys.models import OrgUnit, Survey

MAX_RANGE_PERIODS = 240


class SurveyFilter(django_filters.FilterSet):
    class Meta:
        model = Survey
        fields = ["status", "audience", "kind"]


class OrgUnitFilter(django_filters.FilterSet):
    parent = django_filters.CharFilter(field_name="parent__code", max_length=40)
    subtree = django_filters.CharFilter(
        method="filter_subtree", max_length=40, label="Only this unit and the units below it."
    )

    class Meta:
        model = OrgUnit
        fields = ["level", "parent", "subtree"]

    def filter_subtree(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        root = OrgUnit.objects.filter(code=value).values_list("path", flat=True).first()
        return queryset.filter(path__startswith=root) if root else queryset.none()


@extend_schema_field(
    {
        "type": "string",
        "pattern": periods.LABEL_PATTERN,
        "description": "A month (2026-03) or a quarter (2026-Q1).",
    }
)
class PeriodField(serializers.CharField):
    """A period label, "YYYY-MM" or "YYYY-Qn"; the schema documents the pattern."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=7, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        label = super().to_internal_value(data)
        try:
            periods.granularity_of(label)
        except periods.PeriodError as error:
            raise serializers.ValidationError(str(error)) from None
        return label


class UnitPeriodQuerySerializer(serializers.Serializer):
    """`unit` (code) with `subtree` (default 1: the unit and everything below it), and an
    inclusive period range `period_from` … `period_to` (months or quarters)."""

    unit = serializers.SlugField(max_length=40, required=False)
    subtree = serializers.BooleanField(required=False, default=True)
    period_from = PeriodField(required=False)
    period_to = PeriodField(required=False)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        first, last = data.get("period_from"), data.get("period_to")
        if first and last:
            if periods.granularity_of(first) != periods.granularity_of(last):
                raise serializers.ValidationError(
                    {"period_to": ["Both ends must be months, or both quarters."]}
                )
            span = periods.index_of(last) - periods.index_of(first)
            if span < 0:
                raise serializers.ValidationError(
                    {"period_to": ["The range ends before it starts."]}
                )
            if span >= MAX_RANGE_PERIODS:
                message = f"A range covers at most {MAX_RANGE_PERIODS} periods."
                raise serializers.ValidationError({"period_to": [message]})
        return data
