"""``manage.py migrate`` is migrate_schemas here, as django-tenants makes it (see there)."""

from .migrate_schemas import Command  # noqa: F401
