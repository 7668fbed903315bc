"""Building blocks shared by the survey and linkage APIs: roles and unit scope, strict input
serializers, pagination, the public-submission throttle, and the documented error shape."""

import io
import json
import re
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q
from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions, serializers
from rest_framework.exceptions import ParseError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from linkage.permissions import is_analyst, is_leader, sees_every_unit
from surveys.models import OrgUnit

AnyUser = AbstractBaseUser | AnonymousUser
NO_ROLE = (
    "Your account has no role in the API: ask an administrator to make you a leader, an "
    "analyst or the manager of a unit."
)
SLUG_PATTERN = r"[-a-zA-Z0-9_]{1,80}"
ID_PATTERN = r"[0-9]+"  # Django answers an out-of-range id with no rows


# ------------------------------------------------------------------ roles and scope


def managed_paths(user: AnyUser) -> list[str]:
    """Paths of the units `user` manages, read once per request user."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_api_managed_paths", None)
    if cached is None:
        cached = list(user.managed_units.values_list("path", flat=True))
        user._api_managed_paths = cached
    return cached


def has_role(user: AnyUser) -> bool:
    """Leaders, analysts, superusers and unit managers use the API; others see nothing."""
    if not user.is_authenticated or not user.is_active:
        return False
    return sees_every_unit(user) or bool(managed_paths(user))


def unit_scope(user: AnyUser, field: str = "unit") -> Q | None:
    """Condition limiting `field` (an OrgUnit relation, or "" for OrgUnit itself) to the units
    `user` may see; None when they see every unit. Subtrees are path prefixes."""
    if sees_every_unit(user):
        return None
    condition = Q(pk__in=[])
    prefix = f"{field}__" if field else ""
    for path in managed_paths(user):
        condition |= Q(**{f"{prefix}path__startswith": path})
    return condition


def scoped(queryset, user: AnyUser, field: str = "unit"):
    """`queryset` limited to rows about units `user` may see."""
    condition = unit_scope(user, field)
    return queryset if condition is None else queryset.filter(condition)


def visible_unit_ids(user: AnyUser, codes: Iterable[str]) -> dict[str, int]:
    """Of the unit `codes`, those `user` may see, as code → id (one query)."""
    units = scoped(OrgUnit.objects.filter(code__in=set(codes)), user, field="")
    return dict(units.values_list("code", "id"))


class HasRole(permissions.BasePermission):
    """Authenticated with a role (leader, analyst, superuser or unit manager)."""

    message = NO_ROLE

    def has_permission(self, request, view) -> bool:
        return has_role(request.user)


class IsLeaderOrAnalyst(permissions.BasePermission):
    """Organisation-wide analysis: leaders, analysts and superusers."""

    message = "Only leaders and analysts may use this part of the API."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user.is_authenticated and user.is_active) and (
            user.is_superuser or is_leader(user) or is_analyst(user)
        )


class IsStaffWithRole(permissions.BasePermission):
    """Staff members with a role; used for writes such as issuing invitations."""

    message = "Only staff members with a role may do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user.is_authenticated and request.user.is_staff) and has_role(
            request.user
        )


# ------------------------------------------------------------------ parsing

# A \uD800–\uDFFF escape: the only way a UTF-8 body can carry a surrogate code point.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class JSONTextParser(JSONParser):
    """DRF's JSON parser, refusing (400) documents that would only fail later, as a 500:
    nesting deeper than Python can parse, lone surrogates ("\\ud800"), which are not text
    that PostgreSQL can store or a response can echo back, and NUL characters ("\\u0000"),
    which neither its text nor its jsonb columns hold (also not in an echoed field name)."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        raw = stream.read()
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        # Escaped pairs (emoji) are fine; only a full check tells them from lone halves.
        if _SURROGATE_ESCAPE.search(raw) and not _is_unicode_text(data):
            raise ParseError(
                "JSON parse error - strings must be Unicode text; a lone surrogate "
                "(\\ud800–\\udfff) is not."
            )
        if b"\\u0000" in raw and _contains_nul(data):
            raise ParseError("JSON parse error - strings must not contain NUL (\\u0000).")
        return data


def _contains_nul(data: Any) -> bool:
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _is_unicode_text(data: Any) -> bool:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# ------------------------------------------------------------------ serializers


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


# ------------------------------------------------------------------ views


ERRORS_FOR_EVERY_OPERATION = ("400", "401", "403", "404", "406", "429")
ERRORS_FOR_WRITES = ("409", "410", "413", "415", "422")


class ApiSchema(AutoSchema):
    """drf-spectacular schema that documents the shared error responses of every operation."""

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes = ERRORS_FOR_EVERY_OPERATION
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ERRORS_FOR_WRITES
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    ErrorSerializer, code, media_types=["application/json"]
                )
        return responses


class ApiPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000


class PublicSubmitThrottle(ScopedRateThrottle):
    """The public submission rate (PUBLIC_SUBMIT_RATE), read when a request arrives."""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class ApiViewMixin:
    """Common view settings: documented errors, pagination, and errors always in JSON, also
    on views that otherwise render files (exports)."""

    schema = ApiSchema()
    pagination_class = ApiPagination
    parser_classes = [JSONTextParser]
    permission_classes = [HasRole]

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and response.status_code >= 400:
            renderer = getattr(request, "accepted_renderer", None)
            if not isinstance(renderer, JSONRenderer | BrowsableAPIRenderer):
                request.accepted_renderer = JSONRenderer()
                request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)
