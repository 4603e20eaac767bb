from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    label = "audit"
    verbose_name = _("Access log")

    def ready(self):
        from . import checks, signals  # noqa: F401  (the declaration check, the sign-in receivers)
