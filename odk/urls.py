"""URLs of the ODK screens on a country host (administrators only)."""

from django.urls import path

from . import views

app_name = "odk"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("connection/", views.connection_edit, name="connection"),
    path("action/<slug:action>/", views.action, name="action"),
    path("review/", views.review_list, name="review_list"),
    path("review/<int:pk>/", views.review_detail, name="review_detail"),
    path("app-users/<int:pk>/qr/", views.app_user_qr, name="app_user_qr"),
    path("forms/<slug:kind>.<slug:fmt>", views.form_download, name="form_download"),
]
