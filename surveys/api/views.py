"""Survey API: surveys with questions, org units, invitations, submissions (public and bulk),
response exports, the metric catalogue and suppression-aware metric values (list and export).
Views check shape, read through selectors and hand writes to the services."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from common.api.errors import ApiError
from common.api.idempotency import KEY_PARAMETER, idempotent
from common.api.renderers import (
    EXPORT_FORMAT_PARAMETER,
    EXPORT_RESPONSES,
    CSVRenderer,
    XLSXRenderer,
)
from common.api.views import SLUG_PATTERN, ApiViewMixin, KeysetPagination, PublicSubmitThrottle
from common.exports import streaming_export
from common.roles import acting_user

from ..definition import definition_for_slug
from ..exceptions import UnknownUnit
from ..exports import metric_value_rows, response_rows
from ..models import MetricValue, OrgUnit, Survey
from ..models import Response as SurveyResponse
from ..respondent_cache import unit_with_code
from ..selectors import (
    metric_catalogue,
    metric_values,
    readable_responses,
    readable_surveys,
    unit_by_code,
)
from ..services import import_responses, issue_invitations, submit_response
from ..visibility import readable_unit_ids, readable_units, reads_every_unit
from .filters import OrgUnitFilter, SurveyFilter, UnitPeriodQuerySerializer
from .permissions import HasRole, IsStaffWithRole
from .serializers import (
    BulkResultSerializer,
    BulkSubmissionInputSerializer,
    InvitationBatchInputSerializer,
    InvitationBatchSerializer,
    MetricSerializer,
    MetricValueQuerySerializer,
    MetricValueSerializer,
    OrgUnitSerializer,
    SubmissionInputSerializer,
    SubmissionResultSerializer,
    SurveyDetailSerializer,
    SurveySerializer,
)


def unknown_unit(code: str) -> str:
    # The same words for a unit that does not exist and one outside the caller's scope.
    return f"Unit '{code}' is not known."


class OrgUnitViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """The organisation tree, limited to the units the caller may see."""

    permission_classes = [HasRole]

    serializer_class = OrgUnitSerializer
    lookup_field = "code"
    lookup_value_regex = SLUG_PATTERN
    filterset_class = OrgUnitFilter

    def get_queryset(self) -> QuerySet[OrgUnit]:
        return readable_units(self.request.user).select_related("parent")


class SurveyViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Surveys with their questions and choices; verbs for invitations, bulk responses and
    exports hang below one survey."""

    permission_classes = [HasRole]

    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN
    filterset_class = SurveyFilter

    def get_queryset(self) -> QuerySet[Survey]:
        return readable_surveys(self.request.user, with_questions=self.action == "retrieve")

    def get_serializer_class(self):
        return SurveyDetailSerializer if self.action == "retrieve" else SurveySerializer

    @extend_schema(
        request=InvitationBatchInputSerializer,
        responses={201: InvitationBatchSerializer},
        parameters=[KEY_PARAMETER],
    )
    @action(detail=True, methods=["post"], permission_classes=[IsStaffWithRole])
    @idempotent
    def invitations(self, request: Request, slug: str | None = None) -> Response:
        """Issue personal single-use invitation links to one unit (staff only; for employee
        and anonymous surveys administrators only)."""
        survey = self.get_object()
        serializer = InvitationBatchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        unit = unit_by_code(request.user, data["unit"])
        if unit is None:
            raise UnknownUnit(unknown_unit(data["unit"]))
        created = issue_invitations(
            survey=survey,
            unit=unit,
            count=data.get("count"),
            contacts=data.get("contacts"),
            expires_in_days=data["expires_in_days"],
            created_by=acting_user(request.user),
        )
        body = InvitationBatchSerializer({"count": len(created), "invitations": created}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=BulkSubmissionInputSerializer,
        responses={201: BulkResultSerializer},
        parameters=[KEY_PARAMETER],
    )
    @action(detail=True, methods=["post"], url_path="responses/bulk")
    @idempotent
    def bulk(self, request: Request, slug: str | None = None) -> Response:
        """Submit up to 10,000 responses at once, all or nothing; errors name the item.
        Employee and anonymous surveys: administrators only, before the period's release."""
        survey = self.get_object()
        serializer = BulkSubmissionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rows = serializer.validated_data["responses"]
        _check_row_units(request.user, rows)
        result = import_responses(
            survey=survey, rows=rows, channel=SurveyResponse.Channel.API, imported_by=request.user
        )
        body = BulkResultSerializer(result).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[UnitPeriodQuerySerializer, EXPORT_FORMAT_PARAMETER],
        responses=EXPORT_RESPONSES,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="responses/export",
        renderer_classes=[CSVRenderer, XLSXRenderer],
        filter_backends=[],
        pagination_class=None,
    )
    def export(self, request: Request, slug: str | None = None, **kwargs: Any):
        """Stream the survey's responses (one row per response, one column per question) as
        CSV or XLSX. A question column is headed by its code, or `question.<code>` when the
        code equals a response column (e.g. `channel`). Employee and anonymous surveys are
        refused: export metric values."""
        survey = self.get_object()
        query = UnitPeriodQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        responses = readable_responses(request.user, **_unit_and_periods(request.user, query))
        return streaming_export(
            response_rows(survey, responses),
            export_format=request.accepted_renderer.format,
            file_stem=f"{survey.slug}-responses",
        )


def _check_row_units(user, rows: list[dict[str, Any]]) -> None:
    """Refuse rows about units outside the caller's scope, as if the units did not exist."""
    if reads_every_unit(user):
        return
    visible = readable_unit_ids(user, (row["unit"] for row in rows))
    items = {
        str(index): {"unit": [unknown_unit(row["unit"])]}
        for index, row in enumerate(rows)
        if row["unit"] not in visible
    }
    if items:
        raise ApiError(
            f"{len(items)} item(s) are not valid; nothing was imported.",
            code="bulk_invalid",
            items=items,
        )


def _unit_and_periods(user, query: UnitPeriodQuerySerializer) -> dict[str, Any]:
    """The unit (looked up in the caller's scope), subtree flag and period range of a query;
    a unit outside the scope answers like an unknown one."""
    data = query.validated_data
    unit = None
    if "unit" in data:
        unit = unit_by_code(user, data["unit"])
        if unit is None:
            message = unknown_unit(data["unit"])
            raise ApiError(message, fields={"unit": [message]})
    return {
        "unit": unit,
        "subtree": data["subtree"],
        "period_from": data.get("period_from"),
        "period_to": data.get("period_to"),
    }


class SubmissionViewSet(ApiViewMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Public submission of one response, as from the survey's web page (no login)."""

    authentication_classes: list = []  # public: no session, so no CSRF token is needed
    permission_classes = [AllowAny]
    throttle_classes = [PublicSubmitThrottle]
    throttle_scope = "public_submit"
    serializer_class = SubmissionInputSerializer

    @extend_schema(
        request=SubmissionInputSerializer,
        responses={201: SubmissionResultSerializer},
        parameters=[KEY_PARAMETER],
        auth=[],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Submit one response by public link (survey + unit) or personal invitation (token)."""
        serializer = SubmissionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        definition = definition_for_slug(data["survey"])
        if definition is None or definition.survey.status == Survey.Status.DRAFT:
            raise ApiError("There is no survey with this slug.", status_code=404, code="not_found")
        survey = definition.survey
        unit = None
        if "unit" in data:
            unit = unit_with_code(definition, data["unit"])
            if unit is None:
                raise UnknownUnit(unknown_unit(data["unit"]))
        response = submit_response(
            survey=survey,
            answers=data["answers"],
            unit=unit,
            token=data.get("token"),
            channel=SurveyResponse.Channel.API,
            meta={"language": data.get("language", "")},
            definition=definition,
        )
        body = {"received": True, "survey": survey.slug, "period": response.period}
        return Response(SubmissionResultSerializer(body).data, status=status.HTTP_201_CREATED)


# ------------------------------------------------------------------ metrics and values

METRIC_KEY_PATTERN = r"[a-z0-9_.]{1,80}"


class MetricViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """The metric catalogue: keys to ask metric values and linkage runs for."""

    permission_classes = [HasRole]

    queryset = metric_catalogue()
    serializer_class = MetricSerializer
    lookup_field = "key"
    lookup_value_regex = METRIC_KEY_PATTERN
    filterset_fields = ["source", "chain_stage", "perspective", "level"]


class MetricValueViewSet(ApiViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Metric values by metric, unit subtree, period range and level. Groups below the
    anonymity threshold come back with value, interval and n null and `suppressed: true`.
    Pages follow a cursor in id order (`next`, `previous`; no page numbers or count), so a
    deep page is as fast as the first."""

    permission_classes = [HasRole]
    pagination_class = KeysetPagination

    serializer_class = MetricValueSerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[MetricValue]:
        query = MetricValueQuerySerializer(data=self.request.query_params.dict())
        query.is_valid(raise_exception=True)
        return metric_values(
            reader=self.request.user,
            metric_keys=query.validated_data.get("metric"),
            level=query.validated_data.get("level"),
            **_unit_and_periods(self.request.user, query),
        )

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
