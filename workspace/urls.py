from django.urls import path

from . import drill_views, exports, linkage_review, views

app_name = "workspace"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("choose/", views.choose, name="choose"),
    path("units/<slug:code>/", views.unit_page, name="unit"),
    path("units/<slug:code>/data.json", views.unit_json, name="unit_json"),
    path("units/<slug:code>/units.export", exports.export_units, name="export_units"),
    path("units/<slug:code>/values.export", exports.export_values, name="export_values"),
    path("responses/", drill_views.responses_home, name="responses_home"),
    path("units/<slug:code>/responses/", drill_views.unit_responses_page, name="responses"),
    path(
        "units/<slug:code>/responses.export",
        drill_views.export_unit_responses,
        name="export_responses",
    ),
    path("responses/<int:pk>/", drill_views.response_page, name="response"),
    path("linkage/", linkage_review.latest_run, name="linkage_latest"),
    path("linkage/<int:pk>/", linkage_review.run_review, name="linkage"),
    path("linkage/<int:pk>/pairs.export", linkage_review.export_pairs, name="export_pairs"),
]
