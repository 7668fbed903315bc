"""Linkage API: metrics, suppression-aware metric values (list and export), linkage runs,
outcome imports, the barometer in force and performance expectations."""

import csv
import io
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiRequest, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response

from cxsurvey.api_errors import ApiError
from surveys.api.common import (
    ID_PATTERN,
    ApiViewMixin,
    IsLeaderOrAnalyst,
    JSONTextParser,
    scoped,
)
from surveys.api.filters import period_condition
from surveys.api.idempotency import KEY_PARAMETER, idempotent
from surveys.api.renderers import (
    EXPORT_FORMAT_PARAMETER,
    EXPORT_RESPONSES,
    CSVRenderer,
    XLSXRenderer,
)
from surveys.exports import metric_value_rows, streaming_export
from surveys.models import OrgUnit

from ..models import LinkageRun, Metric, MetricValue, OutcomeImport, PerformanceExpectation
from ..permissions import sees_every_unit
from ..selectors import linkage_results, metric_values
from ..services.barometer import barometer_in_force
from ..services.outcomes import HEADER, import_outcomes
from ..services.runs import start_linkage_run
from .serializers import (
    BarometerSerializer,
    ExpectationSerializer,
    LinkageResultSerializer,
    LinkageRunInputSerializer,
    LinkageRunSerializer,
    MetricSerializer,
    MetricValueQuerySerializer,
    MetricValueSerializer,
    OutcomeImportSerializer,
    OutcomeInputSerializer,
    OutcomeOptionsSerializer,
)

METRIC_KEY_PATTERN = r"[a-z0-9_.]{1,80}"


class MetricViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """The metric catalogue: keys to ask metric values and linkage runs for."""

    queryset = Metric.objects.order_by("chain_stage", "key")
    serializer_class = MetricSerializer
    lookup_field = "key"
    lookup_value_regex = METRIC_KEY_PATTERN
    filterset_fields = ["source", "chain_stage", "perspective", "level"]


class MetricValueViewSet(ApiViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Metric values by metric, unit subtree, period range and level. Groups below the
    anonymity threshold come back with value, interval and n null and `suppressed: true`."""

    serializer_class = MetricValueSerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[MetricValue]:
        query = MetricValueQuerySerializer(data=self.request.query_params.dict())
        query.is_valid(raise_exception=True)
        return _metric_values(self.request.user, query.validated_data)

    @extend_schema(parameters=[MetricValueQuerySerializer])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        parameters=[MetricValueQuerySerializer, EXPORT_FORMAT_PARAMETER],
        responses=EXPORT_RESPONSES,
    )
    @action(
        detail=False,
        methods=["get"],
        renderer_classes=[CSVRenderer, XLSXRenderer],
        pagination_class=None,
    )
    def export(self, request: Request, **kwargs: Any):
        """Stream the filtered metric values as CSV or XLSX (suppressed cells empty)."""
        return streaming_export(
            metric_value_rows(self.get_queryset()),
            export_format=request.accepted_renderer.format,
            file_stem="metric-values",
        )


def _metric_values(user, data: dict[str, Any]) -> QuerySet[MetricValue]:
    unit = None
    if "unit" in data:
        unit = scoped(OrgUnit.objects.filter(code=data["unit"]), user, field="").first()
        if unit is None:
            message = f"Unit '{data['unit']}' is not known."
            raise ApiError(message, fields={"unit": [message]})
    values = metric_values(
        # None: a caller who sees every unit; leaders and analysts are not unit managers.
        user=None if sees_every_unit(user) else user,
        metric_keys=data.get("metric"),
        unit=unit,
        level=data.get("level"),
    ).filter(period_condition(data))
    if unit is not None and not data["subtree"]:
        values = values.filter(unit=unit)
    return values


class LinkageRunViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Linkage runs: start one (computed by a worker), follow its status, read its results."""

    permission_classes = [IsLeaderOrAnalyst]
    serializer_class = LinkageRunSerializer
    lookup_value_regex = ID_PATTERN
    filterset_fields = ["status", "level"]

    def get_queryset(self) -> QuerySet[LinkageRun]:
        return LinkageRun.objects.select_related("created_by").order_by("-created_at", "-pk")

    @extend_schema(
        request=LinkageRunInputSerializer,
        responses={201: LinkageRunSerializer},
        parameters=[KEY_PARAMETER],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create a linkage run and queue its computation; poll the run for its status."""
        serializer = LinkageRunInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = start_linkage_run(created_by=request.user, **serializer.validated_data)
        body = LinkageRunSerializer(run).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(responses=LinkageResultSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def results(self, request: Request, pk: str | None = None) -> Response:
        """The run's correlations: one row per metric pair and lag, in chain order."""
        run = self.get_object()
        page = self.paginate_queryset(linkage_results(run))
        return self.get_paginated_response(LinkageResultSerializer(page, many=True).data)


class CSVText(str):
    """The text of a text/csv body (a JSON string body is not CSV)."""


class CSVTextParser(BaseParser):
    """A text/csv body, as text."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> CSVText:
        try:
            return CSVText(stream.read().decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise ParseError("The CSV is not UTF-8 text.") from None


class OutcomeViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """Bulk upsert of business outcomes (revenue, retention …) per unit and period."""

    permission_classes = [IsLeaderOrAnalyst]
    parser_classes = [JSONTextParser, CSVTextParser]
    serializer_class = OutcomeImportSerializer
    queryset = OutcomeImport.objects.none()

    @extend_schema(
        request={
            "application/json": OutcomeInputSerializer,
            "text/csv": OpenApiRequest(OpenApiTypes.STR),
        },
        parameters=[OutcomeOptionsSerializer, KEY_PARAMETER],
        responses={201: OutcomeImportSerializer},
    )
    @idempotent
    def create(self, request: Request) -> Response:
        """Upsert outcome values, all or nothing (or skipping bad lines with `skip_bad`).

        JSON `rows` errors are keyed by item index; CSV errors by line (header = line 1).
        """
        lines, options, from_rows = _outcome_lines(request)
        record = import_outcomes(
            lines=lines,
            uploaded_by=request.user,
            file_name="api.json" if from_rows else "api.csv",
            **options,
        )
        if record.status == OutcomeImport.Status.REFUSED:
            raise ApiError(
                f"{len(record.errors)} problem(s) found; nothing was imported.",
                code="outcomes_refused",
                items=_outcome_items(record.errors, from_rows=from_rows),
            )
        body = OutcomeImportSerializer(record).data
        return Response(body, status=status.HTTP_201_CREATED)


def _outcome_lines(request: Request) -> tuple[list[str], dict[str, bool], bool]:
    """CSV lines, import options, and whether the lines were made from JSON rows."""
    if isinstance(request.data, CSVText):
        options = OutcomeOptionsSerializer(data=request.query_params.dict())
        options.is_valid(raise_exception=True)
        return request.data.splitlines(), dict(options.validated_data), False
    serializer = OutcomeInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    options = {"skip_bad": data["skip_bad"], "create_metrics": data["create_metrics"]}
    if "csv" in data:
        return data["csv"].splitlines(), options, False
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for row in data["rows"]:
        writer.writerow([row["unit"], row["period"], row["metric"], repr(row["value"])])
    return buffer.getvalue().splitlines(), options, True


def _outcome_items(errors: list[dict[str, Any]], *, from_rows: bool) -> dict[str, dict]:
    items: dict[str, dict] = {}
    for error in errors:
        line = error.get("line")
        if line is None:
            key = "more"
        elif from_rows and line > 1:
            key = str(line - 2)  # line 2 of the generated CSV is item 0
        else:
            key = str(line)
        items.setdefault(key, {"row": []})["row"].append(error["message"])
    return items


class BarometerViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """The one barometer the leadership team agreed on."""

    serializer_class = BarometerSerializer
    pagination_class = None
    queryset = MetricValue.objects.none()

    @extend_schema(responses={200: BarometerSerializer})
    def list(self, request: Request) -> Response:
        barometer = barometer_in_force()
        if barometer is None:
            raise ApiError(
                "The leadership team has not agreed on a barometer yet.",
                status_code=404,
                code="no_barometer",
            )
        return Response(BarometerSerializer(barometer).data)


class ExpectationViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Performance expectations with their computed baseline, progress and status."""

    serializer_class = ExpectationSerializer
    lookup_value_regex = ID_PATTERN
    filterset_fields = ["status"]

    def get_queryset(self) -> QuerySet[PerformanceExpectation]:
        expectations = PerformanceExpectation.objects.select_related("metric", "unit", "owner")
        return scoped(expectations.order_by("end_date", "title", "pk"), self.request.user)
