"""Administration URLs on a country host."""

from django.urls import path

from . import views

app_name = "administration"

urlpatterns = [
    path("", views.home, name="home"),
    path("users/", views.user_list, name="user_list"),
    path("users/invite/", views.user_invite, name="user_invite"),
    path("users/<int:user_id>/", views.user_detail, name="user_detail"),
    path("users/<int:user_id>/<slug:action>/", views.user_action, name="user_action"),
    path("roles/", views.role_list, name="role_list"),
    path("roles/new/", views.role_edit, name="role_add"),
    path("roles/<int:role_id>/", views.role_edit, name="role_edit"),
    path("support/", views.support_list, name="support_list"),
    path("support/<int:grant_id>/end/", views.support_revoke, name="support_revoke"),
    path("settings/", views.country_settings, name="settings"),
    path("activity/", views.activity, name="activity"),
    path("activity/export.csv", views.activity_csv, name="activity_csv"),
    path("changes/", views.changes, name="changes"),
    path("corrections/", views.corrections, name="corrections"),
    path(
        "corrections/<int:pending_id>/<slug:decision>/",
        views.correction_decide,
        name="correction_decide",
    ),
]
