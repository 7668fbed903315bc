"""URL configuration: admin, respondent pages, dashboards and the REST API."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import APIRootView, DefaultRouter

from comments.api.urls import register as register_comments_api
from common.views import brand_logo, brand_stylesheet
from linkage.api.urls import register as register_linkage_api
from surveys.api.permissions import HasRole
from surveys.api.urls import register as register_surveys_api

handler404 = "cxsurvey.api_errors.not_found"
handler500 = "cxsurvey.api_errors.server_error"


class ApiRootView(APIRootView):
    """The index of API routes, for callers with a role like every other endpoint."""

    permission_classes = [HasRole]


router = DefaultRouter()
router.APIRootView = ApiRootView
register_surveys_api(router)
register_linkage_api(router)
register_comments_api(router)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path("dashboard/", include("linkage.urls")),
    path("comments/", include("comments.urls")),
    path("workspace/", include("workspace.urls")),
    path("distribution/", include("distribution.urls")),
    path("brand.css", brand_stylesheet, name="brand-css"),
    path("brand/logo", brand_logo, name="brand-logo"),
    path("", include("surveys.urls")),
]

if settings.BENCH_ENDPOINTS:  # bench/load_submit.py only; off unless BENCH_ENDPOINTS=1
    from .bench import bare_insert

    urlpatterns.append(path("bench/bare-insert/", bare_insert))
