from django.apps import AppConfig


class SmsPlatformConfig(AppConfig):
    name = "sms_platform"
    label = "sms_platform"
    verbose_name = "Platform"

    def ready(self):
        # django-pgtrigger swaps the migration autodetector of Django's own
        # makemigrations/migrate commands; django-tenants replaces `migrate`
        # with migrate_schemas, which keeps the stock one. Give it the same
        # class so both commands agree (Django's check commands.E001).
        from django.core.management.commands import makemigrations
        from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

        MigrateSchemasCommand.autodetector = makemigrations.Command.autodetector
        _serialise_trigger_installs()


def _serialise_trigger_installs():
    """Queue django-pgtrigger's trigger installs behind one advisory lock.

    Every install re-creates one shared function, public._pgtrigger_should_ignore,
    with CREATE OR REPLACE; two processes of ``migrate_schemas
    --executor=multiprocessing`` doing it at once fail with "tuple concurrently
    updated" (bench/migrate_schemas.py reproduces it with 50 countries). The
    lock lasts until the migration's transaction commits and only trigger
    installs wait for it, so the rest of each country's migration stays parallel.
    """
    from django.db import transaction
    from pgtrigger import migrations

    install = migrations._add_trigger
    if getattr(install, "serialised", False):
        return

    def add_trigger(schema_editor, model, trigger):
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute(
                "SELECT pg_advisory_xact_lock(hashtext('sms:pgtrigger-install'))", params=None
            )
            install(schema_editor, model, trigger)

    add_trigger.serialised = True
    migrations._add_trigger = add_trigger
