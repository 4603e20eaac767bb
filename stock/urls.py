"""URLs of the stock register on a country host (the dashboard is the home page,
routed in sms_platform.urls_country)."""

from django.urls import path

from . import views

app_name = "stock"

urlpatterns = [
    path("items/", views.item_list, name="item_list"),
    path("items/new/", views.item_register, name="item_register"),
    path("items/export.csv", views.item_export, {"fmt": "csv"}, name="item_export_csv"),
    path("items/export.xlsx", views.item_export, {"fmt": "xlsx"}, name="item_export_xlsx"),
    path("items/labels.pdf", views.item_labels, name="item_labels"),
    path("items/<uuid:item_id>/", views.item_detail, name="item_detail"),
    path("items/<uuid:item_id>/correct/", views.item_correct, name="item_correct"),
    path("items/<uuid:item_id>/archive/", views.item_archive, name="item_archive"),
    path("items/<uuid:item_id>/label.pdf", views.item_label, name="item_label"),
    path("items/<uuid:item_id>/photos/", views.item_photos_add, name="item_photos_add"),
    path("photos/<uuid:photo_id>/", views.photo_original, name="photo_original"),
    path("photos/<uuid:photo_id>/thumbnail/", views.photo_thumbnail, name="photo_thumbnail"),
    path("archive/", views.archive_list, name="archive_list"),
    path("marks-to-do/", views.marks_to_do, name="marks_to_do"),
    path("custom-fields/", views.custom_field_list, name="custom_field_list"),
    path("custom-fields/new/", views.custom_field_edit, name="custom_field_add"),
    path(
        "custom-fields/<int:definition_id>/", views.custom_field_detail, name="custom_field_detail"
    ),
    path(
        "custom-fields/<int:definition_id>/edit/", views.custom_field_edit, name="custom_field_edit"
    ),
    path(
        "custom-fields/<int:definition_id>/deactivate/",
        views.custom_field_deactivate,
        name="custom_field_deactivate",
    ),
]
