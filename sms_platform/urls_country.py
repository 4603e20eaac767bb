"""URLs of a country host."""

from django.urls import include, path

from sms_platform.views import favicon
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
    path("help/", include("guides.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("favicon.ico", favicon),
]

# SMS's own error pages (core/error_pages.py), in the user's language.
handler404 = "core.error_pages.page_not_found"
handler403 = "core.error_pages.permission_denied"
handler500 = "core.error_pages.server_error"
