from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AdministrationConfig(AppConfig):
    name = "administration"
    label = "administration"
    verbose_name = _("Administration")

    def ready(self):
        from . import signals  # noqa: F401  (connects the sign-in and correction receivers)
