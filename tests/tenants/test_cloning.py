"""New countries are copies of the migrated template schema, and a copy is
exactly what the migrations make: same tables, columns, indexes, constraints,
sequences, triggers and functions, same rows; the never-delete triggers hold.

Everything here runs inside the test's transaction: the schemas created (and
the template's changes) vanish with its rollback.
"""

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import DatabaseError
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from core.dbroles import grant_application_role
from tenants.cloning import (
    TEMPLATE_SCHEMA,
    creation_times,
    schema_read,
    template_current,
)
from tenants.models import Country, Domain
from tenants.services import country_create
from tests.tenants.catalog import catalog, differences

# Migrations and new schemas: the database owner's work (tests/database_roles.py).
pytestmark = [pytest.mark.django_db, pytest.mark.database_owner]

NEW = {"name": "Cloneland", "languages": ["en"], "default_language": "en", "time_zone": "UTC"}


def unapplied(schema: str) -> list:
    with schema_context(schema):
        executor = MigrationExecutor(connection)
        return executor.migration_plan(executor.loader.graph.leaf_nodes())


@pytest.mark.slow
def test_a_copy_is_what_the_migrations_make_and_a_missing_template_is_built_again():
    # Built again from nothing, by the migrations (migrate_schemas, as every
    # country was before the template): what the copy is compared with.
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA {TEMPLATE_SCHEMA} CASCADE")
    before = timezone.now()
    country_create(code="XC", **NEW)
    assert schema_exists(TEMPLATE_SCHEMA)
    assert unapplied(TEMPLATE_SCHEMA) == [] and unapplied("xc") == []
    assert template_current().unsupported == []  # so XC is a copy

    # Times of writing (django_migrations.applied, auto_now fields) differ by
    # nature; they are compared below with the time of the copy.
    tables = {row[0] for row in catalog("xc")["relations"]}
    times = creation_times(tables)
    skip = {(table, column) for table, values in times.items() for column, _ in values}
    assert ("django_migrations", "applied") in skip
    # The copy, a country, has the application role's grants; the template never
    # has (core.dbroles): compared as if it were a country (rolled back with the test).
    grant_application_role(schema_name=TEMPLATE_SCHEMA, served=True)
    assert differences(TEMPLATE_SCHEMA, "xc", skip=skip) == {}
    with connection.cursor() as cursor:
        for table, column in skip:
            cursor.execute(f'SELECT min("{column}") FROM xc."{table}"')  # noqa: S608
            (oldest,) = cursor.fetchone()
            assert oldest is None or oldest >= before.replace(microsecond=0), (table, column)
    cloned = catalog("xc", skip=skip)
    # The comparison covers what matters, not two empty sets.
    triggers = {row[1].rsplit("_", 1)[0] for row in cloned["triggers"]}
    assert {"pgtrigger_stockitem_no_delete", "pgtrigger_itemchange_no_update"} <= triggers
    # Each trigger calls the copy's own function, not the template's.
    assert all(row[-1] for row in cloned["triggers"])
    assert len(cloned["indexes"]) > 100 and len(cloned["constraints"]) > 100
    rows = {table: count for table, count, _ in cloned["rows"]}
    assert rows["django_migrations"] > 0 and rows["auth_permission"] > 0
    # The custody ledger's head, seeded by a migration (whichever app holds it).
    assert [count for table, count in rows.items() if table.endswith("_ledgerhead")] == [1]


def test_a_stock_item_cannot_be_deleted_in_a_cloned_country(settings, tmp_path):
    from accounts.services import roles_sync
    from stock.models import StockItem
    from tests.stock.conftest import make_register, register

    settings.MEDIA_ROOT = tmp_path
    assert template_current().unsupported == []  # so the country is a copy
    country = country_create(code="XC", **NEW)
    with schema_context(country.schema_name):
        roles_sync()
        item = register(make_register())
        with pytest.raises(DatabaseError, match="Cannot delete"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("DELETE FROM stock_stockitem WHERE id = %s", [item.pk])
        with pytest.raises(DatabaseError, match="Cannot delete"):
            with transaction.atomic():
                StockItem.objects.filter(pk=item.pk).delete()
        assert StockItem.objects.filter(pk=item.pk).exists()


def test_the_template_is_never_a_country(client):
    template_current()
    assert schema_exists(TEMPLATE_SCHEMA)
    assert not Country.objects.filter(schema_name=TEMPLATE_SCHEMA).exists()
    assert not Domain.objects.filter(domain__startswith=TEMPLATE_SCHEMA).exists()
    response = client.get("/accounts/login/", HTTP_HOST=f"{TEMPLATE_SCHEMA}.localhost")
    assert response.status_code == 404


def test_a_template_behind_the_migrations_is_migrated_before_it_is_copied():
    from django.core.management import call_command

    # Take the template one migration back: the newest one of an app whose
    # newest migration can be reversed.
    with schema_context(TEMPLATE_SCHEMA):
        loader = MigrationExecutor(connection).loader
    for app, name in sorted(loader.graph.leaf_nodes()):
        migration = loader.get_migration(app, name)
        parents = [p for p in loader.graph.node_map[(app, name)].parents if p[0] == app]
        if parents and all(op.reversible for op in migration.operations):
            break
    else:
        pytest.fail("no reversible newest migration to take back")
    call_command(
        "migrate_schemas",
        app,
        parents[0][1],
        tenant=True,
        schema_name=TEMPLATE_SCHEMA,
        executor="standard",
        interactive=False,
        verbosity=0,
    )
    connection.set_schema_to_public()
    assert unapplied(TEMPLATE_SCHEMA) == [(migration, False)]

    country_create(code="XC", **NEW)
    assert unapplied(TEMPLATE_SCHEMA) == []
    assert unapplied("xc") == []


def test_what_the_copy_would_miss_is_named_and_nothing_is_copied():
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE VIEW {TEMPLATE_SCHEMA}.sites AS SELECT * FROM {TEMPLATE_SCHEMA}.stock_site"  # noqa: S608
        )
    template = schema_read(TEMPLATE_SCHEMA)
    assert template.unsupported[0] == (
        "relations other than tables, indexes and sequences: sites (relkind v)"
    )
    with pytest.raises(ValueError, match="can't be copied: relations other than"):
        template.create("xc")
    assert not schema_exists("xc")
