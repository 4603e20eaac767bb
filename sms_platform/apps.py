from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _guard_trigger_switch(sender, using="default", **kwargs):
    # Imported here: the backend module loads contenttypes' models, which
    # need the app registry ready.
    from .postgresql_backend.base import install_ignore_guard

    install_ignore_guard(connections[using])


class SmsPlatformConfig(AppConfig):
    name = "sms_platform"
    label = "sms_platform"
    verbose_name = "Platform"

    def ready(self):
        # Once per migrate run (sender: this app), after every trigger install.
        post_migrate.connect(_guard_trigger_switch, sender=self, dispatch_uid="sms_guard_ignore")
