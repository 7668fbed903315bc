"""The one error shape of the REST API and the error that views raise to answer in it.

Every error answers with

    {"error": {"status": 400, "code": "invalid", "message": "…", "fields": {…}}}

and, for bulk requests, `"items": {"<index or line>": {"<field>": ["…"]}}`. Field names are
flattened with dots (`answers.nps`, `contacts.3.segment`).
"""

from collections.abc import Mapping
from typing import Any

from rest_framework import exceptions, status

NON_FIELD = "non_field_errors"


class ApiError(exceptions.APIException):
    """An API error with an explicit code, message, and optional field or item errors."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        code: str = "invalid",
        fields: Mapping[str, list[str]] | None = None,
        items: Mapping[str, Mapping[str, list[str]]] | None = None,
        omitted: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.message = message
        self.fields = dict(fields or {})
        self.items = dict(items or {})
        self.omitted = dict(omitted or {})


def error_body(
    *,
    status_code: int,
    code: str,
    message: str,
    fields: Mapping[str, Any] | None = None,
    items: Mapping[str, Any] | None = None,
    omitted: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The one error shape; `items` only appears for bulk requests, and `items_omitted`
    ({"items", "messages"}: what is counted but not listed) only when items were capped."""
    body: dict[str, Any] = {
        "status": status_code,
        "code": code,
        "message": message,
        "fields": dict(fields or {}),
    }
    if items:
        body["items"] = dict(items)
    if omitted:
        body["items_omitted"] = dict(omitted)
    return {"error": body}


SERVER_ERROR_MESSAGE = (
    "Something went wrong on our side; nothing was changed. Please try again later."
)


def split_field_errors(detail: Any) -> tuple[dict[str, list[str]], dict[str, dict]]:
    """DRF error detail → flat dotted field errors, and per-item errors of list inputs.

    `{"responses": [{}, {"answers": {"nps": ["…"]}}]}` becomes items
    `{"1": {"answers.nps": ["…"]}}`: the list of a bulk request is what items are counted in.
    """
    fields: dict[str, list[str]] = {}
    items: dict[str, dict] = {}
    if isinstance(detail, list):
        detail = {NON_FIELD: detail}
    for key, value in detail.items():
        if _is_item_list(value):
            for index, item in enumerate(value):
                if item:
                    items[str(index)] = flatten(item)
        else:
            fields.update(flatten(value, prefix=str(key)))
    return fields, items


def _is_item_list(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(item, dict) for item in value)


def flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested error detail as {"a.b.0.c": [messages]}; top-level messages under their key."""
    if isinstance(detail, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list) and any(isinstance(item, Mapping | list) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            if value:
                flat.update(flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or NON_FIELD: [str(message) for message in messages]}
