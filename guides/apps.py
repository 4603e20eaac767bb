from django.apps import AppConfig


class GuidesConfig(AppConfig):
    name = "guides"
    label = "guides"
    verbose_name = "Training guides"
