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
