from django.urls import path

from . import views

app_name = "surveys"

urlpatterns = [
    path("", views.home, name="home"),
    path("s/<slug:slug>/", views.public_survey, name="public"),
    path("r/<str:token>/", views.invitation_survey, name="invitation"),
    path("s/<slug:slug>/thanks/", views.thanks, name="thanks"),
]
