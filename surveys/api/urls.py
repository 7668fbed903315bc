"""API routes of this app, registered on the project router in cxsurvey/urls.py."""

from rest_framework.routers import BaseRouter

from .views import (
    MetricValueViewSet,
    MetricViewSet,
    OrgUnitViewSet,
    SubmissionViewSet,
    SurveyViewSet,
)


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to the shared router."""
    router.register("surveys", SurveyViewSet, basename="survey")
    router.register("units", OrgUnitViewSet, basename="unit")
    router.register("submissions", SubmissionViewSet, basename="submission")
    router.register("metrics", MetricViewSet, basename="metric")
    router.register("metric-values", MetricValueViewSet, basename="metric-value")
