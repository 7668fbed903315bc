"""API routes of this app, registered on the project router in cxsurvey/urls.py."""

from rest_framework.routers import BaseRouter

from .views import (
    BarometerViewSet,
    ExpectationViewSet,
    LinkageRunViewSet,
    OutcomeViewSet,
)


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to the shared router."""
    router.register("linkage-runs", LinkageRunViewSet, basename="linkage-run")
    router.register("outcomes", OutcomeViewSet, basename="outcome")
    router.register("barometer", BarometerViewSet, basename="barometer")
    router.register("expectations", ExpectationViewSet, basename="expectation")
