from django.apps import AppConfig


class StockConfig(AppConfig):
    name = "stock"
    label = "stock"
    verbose_name = "Stock"

    def ready(self):
        # Any process that may change a store, category or type (web, Celery,
        # provisioning) drops the cached catalogue.
        from . import catalogue  # noqa: F401
