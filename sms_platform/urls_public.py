"""URLs of the public host: the platform-staff console."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.console, name="console"),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
