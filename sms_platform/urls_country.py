"""URLs of a country host."""

from django.urls import include, path

from stock import views as stock_views

urlpatterns = [
    # The country's home page is the stock dashboard.
    path("", stock_views.dashboard, name="home"),
    path("", include("stock.urls")),
    path("", include("custody.urls")),
    path("accounts/", include("accounts.urls")),
    path("administration/", include("administration.urls")),
    path("odk/", include("odk.urls")),
    path("reports/", include("reporting.urls")),
    path("import/", include("imports.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
