from django.apps import AppConfig


class StockConfig(AppConfig):
    name = "stock"
    label = "stock"
    verbose_name = "Stock"
