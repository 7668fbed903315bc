"""The REST API's exception handler (DRF's EXCEPTION_HANDLER) and handler404/handler500.

Every error answers in the one shape of `common.api.errors`. Domain errors raised by services
carry their own status, code, message and field or item errors (`common.exceptions`), so
they map by their base class; anything unexpected becomes a logged 500 with a generic
message, so a response never carries a traceback. This module imports no service.
"""

import logging
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

from common.api.errors import (
    NON_FIELD,
    SERVER_ERROR_MESSAGE,
    ApiError,
    error_body,
    split_field_errors,
)
from common.exceptions import DomainError

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF exception handler: every error in the one shape, never a traceback."""
    response = _known_error(exc)
    if response is None:
        view = context.get("view")
        logger.exception("Unexpected error in %s", type(view).__name__, exc_info=exc)
        response = _response(
            status.HTTP_500_INTERNAL_SERVER_ERROR, "server_error", SERVER_ERROR_MESSAGE
        )
    set_rollback()
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: a URL no API route matches (e.g. /api/v1/linkage-runs/abc/) answers in
    the one error shape, like a missing object; other pages keep the 404 page."""
    if request.path.startswith(API_PREFIX):
        body = error_body(status_code=404, code="not_found", message="Not found.")
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception or Http404())


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an error outside DRF's handling (e.g. in middleware) under /api/ answers
    in the one error shape too; other pages keep the 500 page."""
    if request.path.startswith(API_PREFIX):
        body = error_body(status_code=500, code="server_error", message=SERVER_ERROR_MESSAGE)
        return JsonResponse(body, status=500)
    return defaults.server_error(request)


def _known_error(exc: Exception) -> Response | None:
    if isinstance(exc, ApiError):
        return _response(
            exc.status_code, exc.error_code, exc.message, exc.fields, exc.items, exc.omitted
        )
    if isinstance(exc, DomainError):
        fields, items = exc.field_errors(), exc.item_errors()
        omitted = exc.omitted_items()
        return _response(exc.status_code, exc.error_code, exc.message, fields, items, omitted)
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
    omitted: Mapping[str, int] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = error_body(
        status_code=status_code,
        code=code,
        message=message,
        fields=fields,
        items=items,
        omitted=omitted,
    )
    return Response(body, status=status_code, headers=headers)


def _validation_error(exc: DjangoValidationError) -> Response:
    if hasattr(exc, "error_dict"):
        fields = {key: [str(message) for message in messages] for key, messages in exc}  # type: ignore[misc]
    else:
        fields = {NON_FIELD: [str(message) for message in exc.messages]}
    return _response(400, "invalid", "The request is not valid.", fields)


def _api_exception(exc: exceptions.APIException) -> Response:
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{int(exc.wait)}"  # type: ignore[attr-defined]
    if isinstance(exc, exceptions.ValidationError):
        fields, items = split_field_errors(exc.detail)
        message = "Some fields are missing or not valid." if fields else "Some items are not valid."
        return _response(exc.status_code, "invalid", message, fields, items, headers=headers)
    code = exc.get_codes() if isinstance(exc.detail, str) else exc.default_code
    return _response(exc.status_code, str(code), str(exc.detail), headers=headers)
