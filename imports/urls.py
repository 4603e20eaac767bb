from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.home, name="home"),
    path("upload/", views.upload, name="upload"),
    path("template.xlsx", views.template_download, name="template"),
    path("register.xlsx", views.export_download, name="export"),
    path("<int:run_id>/", views.run_detail, name="run_detail"),
    path("<int:run_id>/columns/", views.mapping, name="mapping"),
    path("<int:run_id>/checked.xlsx", views.checked_download, name="checked"),
]
