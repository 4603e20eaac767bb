from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    """A country's data in one archive (export_country / import_country) and
    the restore drill. Public schema: it enters country schemas explicitly,
    like provisioning."""

    name = "backups"
    label = "backups"
    verbose_name = _("Backups and restore")
