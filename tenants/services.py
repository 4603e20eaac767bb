"""Country writes (public schema; creating a country also creates its schema).

Only provisioning calls these: platform staff never write inside a country
schema except through provisioning code that enters it explicitly.
"""

from django.db import connection, transaction
from django_tenants.models import TenantMixin
from django_tenants.signals import post_schema_sync
from django_tenants.utils import get_public_schema_name, schema_exists

from .cloning import schema_migrate_new, template_current
from .models import Country, Domain, country_host


class CountryExists(ValueError):
    pass


@transaction.atomic
def country_create(
    *,
    code: str,
    name: str,
    languages: list[str],
    default_language: str,
    time_zone: str,
    two_factor_policy: str = Country.TwoFactorPolicy.ADMINS_ONLY,
) -> Country:
    """Create the Country row, its primary Domain and its migrated schema.

    The schema is a copy of the migrated template schema (tenants.cloning),
    which is what the migrations would have produced, in a fraction of the
    time; it is migrated the long way only when the template can't be copied.

    All of it happens in the caller's transaction: PostgreSQL DDL is
    transactional, so when anything later in the caller's block fails the
    schema disappears with the row. That only holds if the copy (or the
    migrations) run on this connection.
    """
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError("Countries are created from the public schema.")
    code = code.upper()
    if Country.objects.filter(code=code).exists():
        raise CountryExists(code)
    country = Country(
        schema_name=code.lower(),
        code=code,
        name=name,
        languages=list(languages),
        default_language=default_language,
        time_zone=time_zone,
        two_factor_policy=two_factor_policy,
    )
    # We create the schema ourselves (below) instead of letting save() do it.
    country.auto_create_schema = False
    country.save(verbosity=0)
    if schema_exists(country.schema_name):
        # A schema without a Country row is left over from something else;
        # adopting it could expose or mix someone's data.
        raise CountryExists(f"schema {country.schema_name!r} already exists")
    template = template_current()
    if template.unsupported:
        schema_migrate_new(country.schema_name)
    else:
        template.create(country.schema_name)
    post_schema_sync.send(sender=TenantMixin, tenant=country)
    Domain.objects.create(tenant=country, domain=country_host(code), is_primary=True)
    return country


@transaction.atomic
def country_update(*, country: Country, **values) -> list[str]:
    """Set the given fields; returns the names of those that changed."""
    changed = [field for field, value in values.items() if getattr(country, field) != value]
    for field in changed:
        setattr(country, field, values[field])
    if changed:
        country.save(update_fields=changed)
    return changed


@transaction.atomic
def country_register_restored(*, code: str, values: dict) -> Country:
    """The Country row and primary Domain of a schema restored from an archive
    (backups.services.country_import): the schema exists already, with its
    data; only the public rows are made. ``values``: the archived Country's
    fields (those this version doesn't know are ignored)."""
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError("Countries are registered from the public schema.")
    code = code.upper()
    if Country.objects.filter(code=code).exists():
        raise CountryExists(code)
    known = {f.name for f in Country._meta.concrete_fields} - {
        "id",
        "schema_name",
        "code",
        "created_at",
    }
    country = Country(
        schema_name=code.lower(),
        code=code,
        **{name: value for name, value in values.items() if name in known},
    )
    # The schema is there (restored); save() must not create one.
    country.auto_create_schema = False
    country.save(verbosity=0)
    Domain.objects.create(tenant=country, domain=country_host(code), is_primary=True)
    return country
