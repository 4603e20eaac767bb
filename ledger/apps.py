from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "ledger"
    label = "ledger"
    verbose_name = _("Custody ledger")

    def ready(self):
        if settings.PRODUCTION:
            # Refuse to start with a key file that is not an Ed25519 key (the
            # settings already refused a missing one), rather than fail at the
            # first registration.
            from .signing import key_file, load_key_file

            load_key_file(key_file())
