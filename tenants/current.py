"""The current country: the one place that answers "which country is this?".

The connection is on one schema at a time (django-tenants): a request's
country on its host, the country a Celery task or a management command
entered, or the public schema. Every module asks here instead of reading
``connection.tenant`` or looking the schema up itself.
"""

import zoneinfo

from django.db import connection
from django_tenants.utils import get_public_schema_name

from .models import Country


def current_country() -> Country | None:
    """The Country whose schema the connection is on: the routed tenant when
    it is one (a request, a tenant-aware task: no query), else looked up by
    the schema's name (``schema_context`` installs a stand-in with the name
    only). None on the public schema."""
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Country) and tenant.pk is not None:
        return tenant
    schema = connection.schema_name
    if schema == get_public_schema_name():
        return None
    return Country.objects.filter(schema_name=schema).first()


def current_country_code() -> str:
    """The ISO code of the current country, without a query: the schema's
    name is the lower-case code (DESIGN.md), and the public schema has none
    (empty)."""
    tenant = getattr(connection, "tenant", None)
    code = getattr(tenant, "code", None)
    if code:
        return code.upper()
    schema = connection.schema_name
    return "" if schema == get_public_schema_name() else schema.upper()


def country_zone() -> zoneinfo.ZoneInfo | None:
    """The current country's time zone, or None on the public schema (or for a
    zone name that is not known: Django's default zone then applies)."""
    country = current_country()
    name = getattr(country, "time_zone", None)
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
