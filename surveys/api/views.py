"""Survey API: surveys with questions, org units, invitations, submissions (public and bulk)
and response exports. Views check shape and scope and hand writes to the services."""

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from cxsurvey.api_errors import ApiError
from surveys.exceptions import UnknownUnit
from surveys.exports import RawExportRefused, response_rows, streaming_export
from surveys.models import OrgUnit, Question, Survey
from surveys.models import Response as SurveyResponse
from surveys.selectors import surveys_with_counts
from surveys.services import import_responses, issue_invitations, submit_response

from .common import (
    SLUG_PATTERN,
    ApiViewMixin,
    IsStaffWithRole,
    PublicSubmitThrottle,
    managed_paths,
    scoped,
    unit_scope,
    visible_unit_ids,
)
from .filters import OrgUnitFilter, SurveyFilter, UnitPeriodQuerySerializer, period_condition
from .idempotency import KEY_PARAMETER, idempotent
from .renderers import EXPORT_FORMAT_PARAMETER, EXPORT_RESPONSES, CSVRenderer, XLSXRenderer
from .serializers import (
    BulkResultSerializer,
    BulkSubmissionInputSerializer,
    InvitationBatchInputSerializer,
    InvitationBatchSerializer,
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

    serializer_class = OrgUnitSerializer
    lookup_field = "code"
    lookup_value_regex = SLUG_PATTERN
    filterset_class = OrgUnitFilter

    def get_queryset(self) -> QuerySet[OrgUnit]:
        units = OrgUnit.objects.select_related("parent").order_by("path")
        return scoped(units, self.request.user, field="")


class SurveyViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Surveys with their questions and choices; verbs for invitations, bulk responses and
    exports hang below one survey."""

    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN
    filterset_class = SurveyFilter

    def get_queryset(self) -> QuerySet[Survey]:
        surveys = surveys_with_counts(Survey.objects.order_by("-created_at", "pk"))
        if self.action == "retrieve":
            questions = Question.objects.order_by("order", "id").prefetch_related("choices")
            surveys = surveys.prefetch_related(Prefetch("questions", queryset=questions))
        condition = _survey_scope(self.request.user)
        return surveys if condition is None else surveys.filter(condition)

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
        """Issue personal single-use invitation links to one unit (staff only)."""
        survey = self.get_object()
        serializer = InvitationBatchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        unit = scoped(OrgUnit.objects.filter(code=data["unit"]), request.user, field="").first()
        if unit is None:
            raise UnknownUnit(unknown_unit(data["unit"]))
        created = issue_invitations(
            survey=survey,
            unit=unit,
            count=data.get("count"),
            contacts=data.get("contacts"),
            expires_in_days=data["expires_in_days"],
            created_by=request.user,
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
        """Submit up to 10,000 responses at once, all or nothing; errors name the item."""
        survey = self.get_object()
        serializer = BulkSubmissionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rows = serializer.validated_data["responses"]
        _check_row_units(request.user, rows)
        result = import_responses(survey=survey, rows=rows, channel=SurveyResponse.Channel.API)
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
        CSV or XLSX. Employee and anonymous surveys are refused: export metric values."""
        survey = self.get_object()
        query = UnitPeriodQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        responses = _filtered_responses(request.user, query.validated_data)
        try:
            rows = response_rows(survey, responses)
        except RawExportRefused as error:
            raise ApiError(error.message, status_code=403, code="raw_export_refused") from None
        return streaming_export(
            rows,
            export_format=request.accepted_renderer.format,
            file_stem=f"{survey.slug}-responses",
        )


def _survey_scope(user) -> Q | None:
    """Surveys a unit manager may read: any unit, or a root unit inside or above their
    subtrees (None: every survey)."""
    if unit_scope(user) is None:
        return None
    condition = Q(root_unit__isnull=True)
    for path in managed_paths(user):
        ancestors = [int(segment) for segment in path.strip("/").split("/")]
        condition |= Q(root_unit__path__startswith=path) | Q(root_unit_id__in=ancestors)
    return condition


def _check_row_units(user, rows: list[dict[str, Any]]) -> None:
    """Refuse rows about units outside the caller's scope, as if the units did not exist."""
    if unit_scope(user) is None:
        return
    visible = visible_unit_ids(user, (row["unit"] for row in rows))
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


def _filtered_responses(user, data: dict[str, Any]) -> QuerySet[SurveyResponse]:
    responses = scoped(SurveyResponse.objects.all(), user).filter(period_condition(data))
    if "unit" in data:
        unit = scoped(OrgUnit.objects.filter(code=data["unit"]), user, field="").first()
        if unit is None:
            raise ApiError(
                unknown_unit(data["unit"]), fields={"unit": [unknown_unit(data["unit"])]}
            )
        if data["subtree"]:
            responses = responses.filter(unit__path__startswith=unit.path)
        else:
            responses = responses.filter(unit=unit)
    return responses


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
        survey = (
            Survey.objects.select_related("root_unit")
            .exclude(status=Survey.Status.DRAFT)
            .filter(slug=data["survey"])
            .first()
        )
        if survey is None:
            raise ApiError("There is no survey with this slug.", status_code=404, code="not_found")
        unit = None
        if "unit" in data:
            unit = OrgUnit.objects.filter(code=data["unit"]).first()
            if unit is None:
                raise UnknownUnit(unknown_unit(data["unit"]))
        response = submit_response(
            survey=survey,
            answers=data["answers"],
            unit=unit,
            token=data.get("token"),
            channel=SurveyResponse.Channel.API,
            meta={"language": data.get("language", "")},
        )
        body = {"received": True, "survey": survey.slug, "period": response.period}
        return Response(SubmissionResultSerializer(body).data, status=status.HTTP_201_CREATED)
