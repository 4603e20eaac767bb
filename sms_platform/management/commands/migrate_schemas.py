"""django-tenants' migrate_schemas, with the migration autodetector makemigrations uses.

django-pgtrigger gives makemigrations and migrate an autodetector that knows
triggers; django-tenants' command keeps Django's plain one, and Django's
check commands.E001 refuses a migrate whose autodetector differs from
makemigrations'. ``autodetector`` is the attribute Django (5.2+) documents
for this. Per schema, migrate_schemas runs Django's own migrate, which
pgtrigger has set up already.
"""

from django.core.management.commands import makemigrations
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand


class Command(MigrateSchemasCommand):
    @property
    def autodetector(self):
        return makemigrations.Command.autodetector
