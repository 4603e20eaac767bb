from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accounts import hooks


class AdministrationConfig(AppConfig):
    name = "administration"
    label = "administration"
    verbose_name = _("Administration")

    def ready(self):
        from . import signals  # noqa: F401  (connects the sign-in and correction receivers)
        from .services import support_account_valid

        # A support account whose grant has ended is refused at sign-in;
        # accounts asks through its hook (it may not import administration).
        hooks.add_sign_in_check(support_account_valid, name="administration.support_grant")
