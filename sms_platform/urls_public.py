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
    path("i18n/", include("django.conf.urls.i18n")),
]
