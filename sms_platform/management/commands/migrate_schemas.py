"""django-tenants' migrate_schemas, with the migration autodetector makemigrations uses.

django-pgtrigger gives makemigrations and migrate an autodetector that knows
triggers; django-tenants' command keeps Django's plain one, and Django's
check commands.E001 refuses a migrate whose autodetector differs from
makemigrations'. ``autodetector`` is the attribute Django (5.2+) documents
for this. Per schema, migrate_schemas runs Django's own migrate, which
pgtrigger has set up already.

It runs as the database owner (core.dbroles.connect_as_owner), whatever
``DATABASE_URL`` says: the application's role may not create or change tables.
"""

from django.core.management.commands import makemigrations
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

from core.dbroles import connect_as_owner


class Command(MigrateSchemasCommand):
    @property
    def autodetector(self):
        return makemigrations.Command.autodetector

    def handle(self, *args, **options):
        connect_as_owner()
        return super().handle(*args, **options)
