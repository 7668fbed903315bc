"""Renderers that make `.csv` / `.xlsx` (or `?format=`) select an export format.

Exports stream their own response; these classes only take part in content negotiation.
Errors on export URLs are still rendered as JSON (see `ApiViewMixin.finalize_response`).
"""

import json
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.renderers import BaseRenderer

from common.exports import XLSX_TYPE


class _ExportRenderer(BaseRenderer):
    def render(self, data: Any, accepted_media_type=None, renderer_context=None) -> bytes:
        return json.dumps(data, default=str).encode()


class CSVRenderer(_ExportRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"


class XLSXRenderer(_ExportRenderer):
    media_type = XLSX_TYPE
    format = "xlsx"
    charset = None


EXPORT_FORMAT_PARAMETER = OpenApiParameter(
    name="format",
    type=str,
    enum=["csv", "xlsx"],
    required=False,
    description="csv (default) or xlsx; the URL may also end in .csv or .xlsx.",
)
EXPORT_RESPONSES = {
    (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, UTF-8, streamed."),
    (200, XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="An XLSX workbook."),
}
