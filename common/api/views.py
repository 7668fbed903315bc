"""What every API view shares: documented errors, pagination, strict JSON, the public-submission
throttle, and errors always rendered as JSON, also on views that otherwise render files."""

from collections.abc import Sequence

from rest_framework.generics import GenericAPIView
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from .parsers import JSONTextParser
from .schema import ApiSchema

SLUG_PATTERN = r"[-a-zA-Z0-9_]{1,80}"
ID_PATTERN = r"[0-9]+"  # Django answers an out-of-range id with no rows


class ApiPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000


class PublicSubmitThrottle(ScopedRateThrottle):
    """The public submission rate (PUBLIC_SUBMIT_RATE), read when a request arrives."""

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return None if rate is None else str(rate)


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
