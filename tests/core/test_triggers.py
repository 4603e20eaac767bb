"""TRUNCATE is refused on every never-delete and append-only table.

The tables are found from the models themselves (their Meta triggers), so a
new never-delete model without its TRUNCATE trigger fails here; the database
is then asked to TRUNCATE each of them: as the owner the trigger refuses (the
application's role is refused before, for want of the privilege:
tests/core/test_dbroles.py).
"""

import pgtrigger
import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from core.triggers import ProtectTruncate
from tests.database_roles import database_owner

pytestmark = pytest.mark.django_db


def _refuses(model, operation) -> bool:
    return any(
        isinstance(trigger, pgtrigger.Protect)
        and trigger.condition is None
        and operation in trigger.operation
        for trigger in getattr(model._meta, "triggers", [])
    )


def protected_models() -> list:
    """Every model whose rows the database never lets go (DELETE refused) or
    never lets change (UPDATE refused)."""
    return [
        model
        for model in apps.get_models()
        if _refuses(model, pgtrigger.Delete) or _refuses(model, pgtrigger.Update)
    ]


def _truncate_trigger(model):
    return next(t for t in model._meta.triggers if isinstance(t, ProtectTruncate))


def _tables_in(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {name for (name,) in cursor.fetchall()}


def test_the_list_comes_from_the_models_and_holds_the_known_ones():
    tables = {model._meta.db_table for model in protected_models()}
    # A few that must be there whatever else is added: items, the ledger, the access log.
    assert {"stock_stockitem", "custody_ledgerentry", "audit_accessevent"} <= tables
    assert len(tables) >= 15


@pytest.mark.parametrize("model", protected_models(), ids=lambda m: m._meta.label)
def test_every_never_delete_or_append_only_model_refuses_truncate(model):
    assert any(isinstance(t, ProtectTruncate) for t in model._meta.triggers), (
        f"{model._meta.label} refuses DELETE or UPDATE but not TRUNCATE: "
        "add core.triggers.no_truncate(...) to its Meta.triggers"
    )


def _assert_truncate_refused(schema: str, table: str):
    quoted = f"{connection.ops.quote_name(schema)}.{connection.ops.quote_name(table)}"
    # CASCADE: without it a table others refer to is refused by its foreign
    # keys before any trigger runs; with it every table it drags along is
    # emptied too, unless a trigger stops the statement, which is the attack.
    with pytest.raises(DatabaseError, match=f"Cannot truncate the {table} table"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {quoted} CASCADE")


def test_truncate_is_refused_in_a_country_schema_even_to_the_owner(country_a):
    tables = _tables_in(country_a.schema_name)
    models = [m for m in protected_models() if m._meta.db_table in tables]
    assert len(models) == len(protected_models())  # every one of them lives in a country
    with database_owner():
        for model in models:
            _assert_truncate_refused(country_a.schema_name, model._meta.db_table)


def test_truncate_of_the_public_access_log_is_refused_even_to_the_owner():
    public = _tables_in("public")
    models = [m for m in protected_models() if m._meta.db_table in public]
    assert [m._meta.label for m in models] == ["audit.AccessEvent"]
    with database_owner(), connection.cursor() as cursor:
        for model in models:
            # Off in the test database for Django's flush (tests/database_roles.py):
            # on again inside this test's transaction, which its end rolls back.
            cursor.execute(
                f"ALTER TABLE public.{model._meta.db_table}"
                f" ENABLE TRIGGER {_truncate_trigger(model).get_pgid(model)}"
            )
            _assert_truncate_refused("public", model._meta.db_table)
