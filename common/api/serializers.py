"""Serializers every API uses: strict inputs and the documented error shape."""

from typing import Any

from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know (typos are errors)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: ["This field is not known."] for key in unknown}
                )
        return super().to_internal_value(data)


class _ErrorDetailSerializer(serializers.Serializer):
    # `fields` is a Serializer attribute, so the field list is built here instead.
    def get_fields(self) -> dict[str, serializers.Field]:
        messages = serializers.ListField(child=serializers.CharField())
        return {
            "status": serializers.IntegerField(),
            "code": serializers.CharField(),
            "message": serializers.CharField(),
            "fields": serializers.DictField(child=messages),
            "items": serializers.DictField(
                child=serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField())
                ),
                required=False,
                help_text="Per-item errors of a bulk request, keyed by item index or line.",
            ),
        }


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API."""

    error = _ErrorDetailSerializer()
