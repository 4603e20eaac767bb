from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "custody"
    label = "custody"
    verbose_name = "Custody"
