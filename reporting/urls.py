"""URLs of reports on a country host."""

from django.urls import path

from . import views

app_name = "reporting"

urlpatterns = [
    path("", views.home, name="home"),
    path("generated/", views.run_list, name="run_list"),
    path("generated/<int:run_id>/", views.run_detail, name="run_detail"),
    path("generated/<int:run_id>/download/", views.run_download, name="run_download"),
    path("cites/private-stocks/", views.private_holdings, name="private_holdings"),
    path("cites/<slug:cites_kind>/<int:year>/file/", views.cites_file, name="cites_file"),
    path("<slug:kind>/", views.report, name="report"),
    path("<slug:kind>/export/", views.export, name="export"),
]
