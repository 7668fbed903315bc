from django.urls import path

from . import views

app_name = "linkage"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("units/<slug:code>/scorecard/", views.unit_scorecard, name="scorecard"),
    path("units/<slug:code>/readings.json", views.unit_readings_json, name="readings"),
]
