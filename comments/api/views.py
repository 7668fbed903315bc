"""Comments API: a unit's themes with their statistics, and its comments (masked)."""

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from common.api.errors import ApiError
from common.api.views import ApiViewMixin
from surveys.api.permissions import HasRole
from surveys.models import OrgUnit, Survey
from surveys.selectors import readable_surveys, unit_by_code

from ..models import Theme, ThemeRun
from ..selectors import comments_page
from ..theme_selectors import UnitThemes, unit_themes
from .serializers import (
    CommentPageSerializer,
    CommentQuerySerializer,
    ThemeQuerySerializer,
    UnitThemesSerializer,
)


def _not_found(what: str) -> ApiError:
    return ApiError(f"There is no {what} with this id or code.", status_code=404, code="not_found")


def _survey_and_unit(request: Request, query: dict[str, Any]) -> tuple[Survey, OrgUnit]:
    """The survey and unit asked for; unknown and out-of-scope answer alike (404)."""
    survey = readable_surveys(request.user).filter(pk=query["survey"]).first()
    if survey is None:
        raise _not_found("survey")
    unit = unit_by_code(request.user, query["unit"])
    if unit is None:
        raise _not_found("unit")
    return survey, unit


def themes_as_data(data: UnitThemes) -> dict[str, Any]:
    """The API (and page) shape of a unit's themes."""
    run = data.run
    return {
        "survey": data.survey.pk,
        "unit": data.unit.code,
        "run": run.pk if run else None,
        "first_period": run.first_period if run else None,
        "last_period": run.last_period if run else None,
        "low_group": data.groups.low_name,
        "high_group": data.groups.high_name,
        "comments": data.comment_count,
        "separating": [row.theme_id for row in data.separating],
        "themes": [
            {
                "id": row.theme_id,
                "name": row.name,
                "auto_label": row.label,
                "terms": row.terms,
                "comments": row.count,
                "share": row.share,
                "low_share": row.contrast.low_share,
                "high_share": row.contrast.high_share,
                "difference": row.contrast.difference,
                "p_value": row.contrast.p_value,
                "q_value": row.contrast.q_value,
                "sentence": row.contrast.sentence,
                "warnings": list(row.contrast.warnings),
                "trend": [{"period": period, "share": share} for period, share in row.trend],
                "representatives": row.representatives,
            }
            for row in data.rows
        ],
    }


class CommentThemeViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """Themes of a unit's open comments with the low vs high scorers split, q and trend."""

    permission_classes = [HasRole]
    pagination_class = None
    serializer_class = UnitThemesSerializer
    queryset = Theme.objects.none()

    @extend_schema(parameters=[ThemeQuerySerializer], responses={200: UnitThemesSerializer})
    def list(self, request: Request) -> Response:
        query = ThemeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        survey, unit = _survey_and_unit(request, query.validated_data)
        run = None
        if "run" in query.validated_data:
            run = ThemeRun.objects.filter(
                pk=query.validated_data["run"], survey=survey, status=ThemeRun.Status.DONE
            ).first()
            if run is None:
                raise _not_found("finished theme run of this survey")
        periods = (
            query.validated_data.get("first_period"),
            query.validated_data.get("last_period"),
        )
        data = unit_themes(request.user, survey, unit, run=run, periods=periods)
        return Response(themes_as_data(data))


class CommentViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """A unit's open comments, masked, in an order unrelated to time, without respondent,
    time or segment; employee comments only from released groups of at least the minimum."""

    permission_classes = [HasRole]
    pagination_class = None
    serializer_class = CommentPageSerializer
    queryset = Theme.objects.none()

    @extend_schema(parameters=[CommentQuerySerializer], responses={200: CommentPageSerializer})
    def list(self, request: Request) -> Response:
        query = CommentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        survey, unit = _survey_and_unit(request, data)
        theme = None
        if "theme" in data:
            theme = Theme.objects.filter(pk=data["theme"], run__survey=survey).first()
            if theme is None:
                raise _not_found("theme of this survey")
        comments, total = comments_page(
            request.user,
            survey,
            unit=unit,
            theme=theme,
            search=data.get("search", ""),
            limit=data["limit"],
            offset=data["offset"],
        )
        return Response({"count": total, "results": [asdict(comment) for comment in comments]})
