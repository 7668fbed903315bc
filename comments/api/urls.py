"""API routes of this app, registered on the project router in cxsurvey/urls.py."""

from rest_framework.routers import BaseRouter

from .views import CommentThemeViewSet, CommentViewSet


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to the shared router."""
    router.register("comment-themes", CommentThemeViewSet, basename="comment-theme")
    router.register("comments", CommentViewSet, basename="comment")
