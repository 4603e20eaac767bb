from django.apps import AppConfig


class OdkConfig(AppConfig):
    name = "odk"
    label = "odk"
    verbose_name = "ODK"
