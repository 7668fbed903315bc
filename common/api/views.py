"""What every API view shares: documented errors, pagination, strict JSON, the public-submission
throttle, and errors always rendered as JSON, also on views that otherwise render files."""

from collections.abc import Sequence

from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import BasePagination, CursorPagination, PageNumberPagination
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from ..net import client_address
from ..ratelimit import PUBLIC_SUBMIT, hit_public_submit
from .parsers import JSONTextParser
from .schema import ApiSchema

SLUG_PATTERN = r"[-a-zA-Z0-9_]{1,80}"
ID_PATTERN = r"[0-9]+"  # Django answers an out-of-range id with no rows


class ApiPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000


class KeysetPagination(CursorPagination):
    """Pages of a growing table by an opaque cursor on the primary key, in id order.

    Each page is `WHERE id > last ORDER BY id LIMIT n`, read from the primary-key index, so
    the last page costs what the first does (page numbers need OFFSET, which reads and sorts
    every earlier row). No total count; follow `next` and `previous`.
    """

    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 1000

    def decode_cursor(self, request):
        # A position that is not an id would reach the query as `id > 'abc'` (a 500).
        cursor = super().decode_cursor(request)
        position = str(cursor.position) if cursor and cursor.position is not None else ""
        if position and not (position.isdigit() and len(position) <= 18):
            raise NotFound(self.invalid_cursor_message)
        return cursor


class PublicSubmitThrottle(BaseThrottle):
    """The public submission rate (PUBLIC_SUBMIT_RATE, read when a request arrives) per
    client address, counted in the shared cache (`common.ratelimit`): it holds across web
    processes, and the respondent pages count against the same limit."""

    scope = PUBLIC_SUBMIT

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request, view) -> bool:
        verdict = hit_public_submit(client_address(request))
        self._wait = verdict.wait_seconds
        return verdict.allowed

    def wait(self) -> float | None:
        return self._wait


class ApiViewMixin(GenericAPIView):
    """Common view settings: documented errors, pagination, and errors always in JSON, also
    on views that otherwise render files (exports)."""

    schema = ApiSchema()
    pagination_class: type[BasePagination] | None = ApiPagination
    parser_classes: Sequence[type[BaseParser]] = [JSONTextParser]

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and response.status_code >= 400:
            renderer = getattr(request, "accepted_renderer", None)
            if not isinstance(renderer, JSONRenderer | BrowsableAPIRenderer):
                request.accepted_renderer = JSONRenderer()
                request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)
