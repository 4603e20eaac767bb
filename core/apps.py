from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "core"
    label = "core"
    verbose_name = "Core helpers"

    def ready(self):
        from celery.signals import beat_init, worker_init
        from django_tenants.signals import post_schema_sync

        from . import dbroles

        # The application role's privileges follow every migration of a schema
        # (once per run: post_migrate is sent per app, contenttypes is in every
        # schema) and every new country's schema, copied or migrated.
        post_migrate.connect(
            dbroles.grant_after_migrate,
            sender=self.apps.get_app_config("contenttypes"),
            dispatch_uid="core.dbroles.grant_after_migrate",
        )
        post_schema_sync.connect(
            dbroles.grant_after_schema_sync, dispatch_uid="core.dbroles.grant_after_schema_sync"
        )
        # Celery's worker and beat refuse to start in production with a database
        # role that could switch the never-delete triggers off, as the WSGI
        # application does (sms_platform/wsgi.py). Both signals come after
        # Django is set up.
        worker_init.connect(
            dbroles.refuse_privileged_role_signal, dispatch_uid="core.dbroles.worker_init"
        )
        beat_init.connect(
            dbroles.refuse_privileged_role_signal, dispatch_uid="core.dbroles.beat_init"
        )
