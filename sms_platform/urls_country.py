"""URLs of a country host."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.country_home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
