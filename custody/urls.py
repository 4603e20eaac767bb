"""URLs of transfers, discrepancies, stock-takes and the ledger check on a country host."""

from django.urls import path

from . import views

app_name = "custody"

urlpatterns = [
    path("transfers/", views.transfer_list, name="transfer_list"),
    path("transfers/new/", views.transfer_new, name="transfer_new"),
    path("transfers/<int:transfer_id>/", views.transfer_detail, name="transfer_detail"),
    path(
        "transfers/<int:transfer_id>/dispatch/", views.transfer_dispatch, name="transfer_dispatch"
    ),
    path("transfers/<int:transfer_id>/cancel/", views.transfer_cancel, name="transfer_cancel"),
    path("transfers/<int:transfer_id>/receive/", views.transfer_receive, name="transfer_receive"),
    path("transfers/<int:transfer_id>/<str:kind>.pdf", views.transfer_pdf, name="transfer_pdf"),
    path("discrepancies/", views.discrepancy_list, name="discrepancy_list"),
    path(
        "discrepancies/<int:discrepancy_id>/",
        views.discrepancy_resolve,
        name="discrepancy_resolve",
    ),
    path("stock-takes/", views.stocktake_list, name="stocktake_list"),
    path("stock-takes/<int:stocktake_id>/", views.stocktake_detail, name="stocktake_detail"),
    path("stock-takes/<int:stocktake_id>/check/", views.stocktake_check, name="stocktake_check"),
    path("stock-takes/<int:stocktake_id>/add/", views.stocktake_add, name="stocktake_add"),
    path("stock-takes/<int:stocktake_id>/sheet.pdf", views.stocktake_sheet, name="stocktake_sheet"),
    path(
        "stock-takes/<int:stocktake_id>/labels.pdf",
        views.stocktake_labels,
        name="stocktake_labels",
    ),
    path("stock-takes/<int:stocktake_id>/scan/", views.stocktake_scan, name="stocktake_scan"),
    path(
        "stock-takes/<int:stocktake_id>/check-many/",
        views.stocktake_check_many,
        name="stocktake_check_many",
    ),
    path(
        "stock-takes/<int:stocktake_id>/check-rest/",
        views.stocktake_check_many,
        {"rest": True},
        name="stocktake_check_rest",
    ),
    path(
        "stock-takes/<int:stocktake_id>/items/<uuid:item_id>/",
        views.stocktake_line,
        name="stocktake_line",
    ),
    path(
        "stock-takes/<int:stocktake_id>/sign-off/",
        views.stocktake_sign_off,
        name="stocktake_sign_off",
    ),
    path("ledger/", views.ledger_check, name="ledger_check"),
    path("ledger/checkpoint.json", views.ledger_checkpoint, name="ledger_checkpoint"),
]
