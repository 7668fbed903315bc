from django.urls import path

from . import views

app_name = "comments"

urlpatterns = [
    path("", views.unit_themes_page, name="themes"),
    path("list/", views.comments_list_page, name="list"),
]
