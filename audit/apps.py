from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accounts import hooks


class AuditConfig(AppConfig):
    name = "audit"
    label = "audit"
    verbose_name = _("Access log")

    def ready(self):
        from . import checks, signals  # noqa: F401  (the declaration check, the sign-in receivers)
        from .services import lockout_record

        # Lockouts reach the access log through accounts' hook (accounts may
        # not import audit: it sits below it).
        hooks.on_lockout(lockout_record, name="audit.lockout")
