"""Linkage API: linkage runs, outcome imports, the barometer in force and performance
expectations."""

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

from common.api.errors import ApiError
from common.api.idempotency import KEY_PARAMETER, idempotent
from common.api.parsers import JSONTextParser
from common.api.views import ID_PATTERN, ApiViewMixin
from common.roles import acting_user
from surveys.api.permissions import HasRole, IsLeaderOrAnalyst

from ..models import Barometer, LinkageRun, OutcomeImport, PerformanceExpectation
from ..selectors import linkage_results, linkage_runs, readable_expectations
from ..services.barometer import barometer_in_force
from ..services.outcomes import OutcomeRow, import_outcome_file, import_outcomes
from ..services.runs import start_linkage_run
from .serializers import (
    BarometerSerializer,
    ExpectationSerializer,
    LinkageResultSerializer,
    LinkageRunInputSerializer,
    LinkageRunSerializer,
    OutcomeImportSerializer,
    OutcomeInputSerializer,
    OutcomeOptionsSerializer,
)


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
        return linkage_runs()

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
        run = start_linkage_run(created_by=acting_user(request.user), **serializer.validated_data)
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

    def parse(self, stream, media_type=None, parser_context=None) -> CSVText:  # type: ignore[override]
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
        record, position = _import_outcomes(request)
        if record.status == OutcomeImport.Status.REFUSED:
            raise ApiError(
                f"{len(record.errors)} problem(s) found; nothing was imported.",
                code="outcomes_refused",
                items=_outcome_items(record.errors, position=position),
            )
        body = OutcomeImportSerializer(record).data
        return Response(body, status=status.HTTP_201_CREATED)


def _import_outcomes(request: Request) -> tuple[OutcomeImport, str]:
    """Run the import for a CSV body, a JSON `csv` text or JSON `rows`; also returns what
    the import's problems are numbered by ("line" of the CSV, or "item" of the rows)."""
    if isinstance(request.data, CSVText):
        options = OutcomeOptionsSerializer(data=request.query_params.dict())
        options.is_valid(raise_exception=True)
        record = import_outcome_file(
            lines=request.data.splitlines(),
            uploaded_by=acting_user(request.user),
            file_name="api.csv",
            **options.validated_data,
        )
        return record, "line"
    serializer = OutcomeInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    options = {"skip_bad": data["skip_bad"], "create_metrics": data["create_metrics"]}
    if "csv" in data:
        lines = data["csv"].splitlines()
        return import_outcome_file(
            lines=lines, uploaded_by=acting_user(request.user), file_name="api.csv", **options
        ), "line"
    rows = [
        OutcomeRow(
            index, row["unit"], row["period"], row["metric"], row["value"], row.get("denominator")
        )
        for index, row in enumerate(data["rows"])
    ]
    record = import_outcomes(
        rows=rows,
        uploaded_by=acting_user(request.user),
        file_name="api.json",
        position="item",
        **options,
    )
    return record, "item"


def _outcome_items(errors: list[dict[str, Any]], *, position: str) -> dict[str, dict]:
    """The import's problems as the API's per-item errors, keyed by line or item index."""
    items: dict[str, dict] = {}
    for error in errors:
        number = error.get(position)
        key = "more" if number is None else str(number)
        items.setdefault(key, {"row": []})["row"].append(error["message"])
    return items


class BarometerViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """The one barometer the leadership team agreed on."""

    permission_classes = [HasRole]

    serializer_class = BarometerSerializer
    pagination_class = None
    queryset = Barometer.objects.none()

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

    permission_classes = [HasRole]

    serializer_class = ExpectationSerializer
    lookup_value_regex = ID_PATTERN
    filterset_fields = ["status"]

    def get_queryset(self) -> QuerySet[PerformanceExpectation]:
        return readable_expectations(self.request.user)
