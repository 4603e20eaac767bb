"""URLs of the public host: the platform-staff console."""

from django.urls import include, path

from audit import views as audit_views

from . import health, views

urlpatterns = [
    path("", views.console, name="console"),
    path("health/", health.health, name="health"),
    path("health/ready/", health.ready, name="health_ready"),
    path("support-access/", audit_views.my_support_grants, name="my_support_grants"),
    path("accounts/", include("accounts.urls")),
    # The training guides, also for platform staff helping a country.
    path("help/", include("guides.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("favicon.ico", views.favicon),
]

# SMS's own error pages (core/error_pages.py), in the user's language.
handler404 = "core.error_pages.page_not_found"
handler403 = "core.error_pages.permission_denied"
handler500 = "core.error_pages.server_error"
