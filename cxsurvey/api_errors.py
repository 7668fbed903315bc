"""One error shape for the whole REST API, registered as DRF's EXCEPTION_HANDLER.

Every error answers with

    {"error": {"status": 400, "code": "invalid", "message": "…", "fields": {…}}}

and, for bulk requests, `"items": {"<index or line>": {"<field>": ["…"]}}`. Field names are
flattened with dots (`answers.nps`, `contacts.3.segment`). Domain errors raised by services
carry their own status code and a message that is safe to show; anything unexpected becomes
a logged 500 with a generic message, so a response never carries a traceback.
"""

import logging
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from linkage.permissions import NotALeader
from linkage.services.barometer import BarometerError
from linkage.services.expectations import ExpectationInvalid
from linkage.services.runs import InvalidLinkageRun
from surveys.exceptions import (
    BulkInvalid,
    InvalidAnswers,
    InvalidContactRow,
    InvalidInvitationRequest,
    SurveyError,
    UnknownUnit,
)

logger = logging.getLogger(__name__)

# Keys of a bulk row that are not question codes; any other key in a row error is an answer.
BULK_ROW_FIELDS = frozenset(
    {"unit", "respondent_key", "external_id", "language", "segment", "submitted_at", "answers"}
)
NON_FIELD = "non_field_errors"
_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


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
    ) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.message = message
        self.fields = dict(fields or {})
        self.items = dict(items or {})


def error_body(
    *,
    status_code: int,
    code: str,
    message: str,
    fields: Mapping[str, Any] | None = None,
    items: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The one error shape; `items` only appears for bulk requests."""
    body: dict[str, Any] = {
        "status": status_code,
        "code": code,
        "message": message,
        "fields": dict(fields or {}),
    }
    if items:
        body["items"] = dict(items)
    return {"error": body}


SERVER_ERROR_MESSAGE = (
    "Something went wrong on our side; nothing was changed. Please try again later."
)


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF exception handler: every error in the one shape, never a traceback."""
    response = _known_error(exc)
    if response is None:
        view = context.get("view")
        logger.exception("Unexpected error in %s", type(view).__name__, exc_info=exc)
        response = _response(
            status.HTTP_500_INTERNAL_SERVER_ERROR,
            "server_error",
            SERVER_ERROR_MESSAGE,
        )
    set_rollback()
    return response


API_PREFIX = "/api/"


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: a URL no API route matches (e.g. /api/v1/linkage-runs/abc/) answers in
    the one error shape, like a missing object; other pages keep Django's 404 page."""
    if request.path.startswith(API_PREFIX):
        body = error_body(status_code=404, code="not_found", message="Not found.")
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an error outside DRF's handling (e.g. in middleware) under /api/ answers
    in the one error shape too; other pages keep Django's 500 page."""
    if request.path.startswith(API_PREFIX):
        body = error_body(status_code=500, code="server_error", message=SERVER_ERROR_MESSAGE)
        return JsonResponse(body, status=500)
    return defaults.server_error(request)


def _known_error(exc: Exception) -> Response | None:
    if isinstance(exc, ApiError):
        return _response(exc.status_code, exc.error_code, exc.message, exc.fields, exc.items)
    if isinstance(exc, SurveyError):
        return _survey_error(exc)
    if isinstance(exc, InvalidLinkageRun | ExpectationInvalid):
        return _response(400, "invalid", exc.message, exc.errors)
    if isinstance(exc, BarometerError):
        return _response(400, _code_of(exc), exc.message)
    if isinstance(exc, NotALeader):
        return _response(403, "not_a_leader", exc.message)
    if isinstance(exc, DjangoValidationError):
        return _validation_error(exc)
    if isinstance(exc, RequestDataTooBig):
        return _response(413, "too_large", "The request body is too large; send smaller batches.")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        return _api_exception(exc)
    return None


def _response(
    status_code: int,
    code: str,
    message: str,
    fields: Mapping[str, Any] | None = None,
    items: Mapping[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = error_body(
        status_code=status_code, code=code, message=message, fields=fields, items=items
    )
    return Response(body, status=status_code, headers=headers)


def _code_of(exc: Exception) -> str:
    return _CAMEL_BOUNDARY.sub("_", type(exc).__name__).lower()


def _survey_error(exc: SurveyError) -> Response:
    code = _code_of(exc)
    if isinstance(exc, InvalidAnswers):
        fields = {f"answers.{key}": list(messages) for key, messages in exc.errors.items()}
        return _response(exc.status_code, code, exc.message, fields)
    if isinstance(exc, BulkInvalid):
        items = {str(index): bulk_row_fields(errors) for index, errors in exc.errors.items()}
        return _response(exc.status_code, code, exc.message, items=items)
    if isinstance(exc, InvalidContactRow):
        return _response(exc.status_code, code, exc.message, {_contact_field(exc): [exc.message]})
    if isinstance(exc, UnknownUnit):
        return _response(exc.status_code, code, exc.message, {"unit": [exc.message]})
    if isinstance(exc, InvalidInvitationRequest) and exc.field:
        return _response(exc.status_code, code, exc.message, {exc.field: [exc.message]})
    return _response(exc.status_code, code, exc.message)


def _contact_field(exc: InvalidContactRow) -> str:
    """contacts.<index>.<column>, named like the serializer's errors of the same list."""
    parts = ["contacts"]
    if exc.index is not None:
        parts.append(str(exc.index))
    if exc.column:
        parts.append(exc.column)
    return ".".join(parts)


def bulk_row_fields(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Row errors of `import_responses` with question codes named `answers.<code>`."""
    return {
        (key if key in BULK_ROW_FIELDS or key == "row" else f"answers.{key}"): list(messages)
        for key, messages in errors.items()
    }


def _validation_error(exc: DjangoValidationError) -> Response:
    if hasattr(exc, "error_dict"):
        fields = {key: [str(message) for message in value] for key, value in exc}
    else:
        fields = {NON_FIELD: [str(message) for message in exc.messages]}
    return _response(400, "invalid", "The request is not valid.", fields)


def _api_exception(exc: exceptions.APIException) -> Response:
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{int(exc.wait)}"
    if isinstance(exc, exceptions.ValidationError):
        fields, items = split_field_errors(exc.detail)
        message = "Some fields are missing or not valid." if fields else "Some items are not valid."
        return _response(exc.status_code, "invalid", message, fields, items, headers)
    code = exc.get_codes() if isinstance(exc.detail, str) else exc.default_code
    return _response(exc.status_code, str(code), str(exc.detail), headers=headers)


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
