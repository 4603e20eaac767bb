"""pgtrigger lets a session switch a trigger off with ``SET pgtrigger.ignore``;
SMS keeps that for the owner role only (sms_platform.postgresql_backend), so
the application's own role can't use it to delete a never-delete row."""

import pgtrigger
import pytest
from django.db import Error as DatabaseError
from django.db import connection, transaction

from core import dbroles
from stock.models import StockItem
from tests.database_roles import database_owner, roles_split
from tests.stock.conftest import register

pytestmark = pytest.mark.django_db


def _trigger_pgid(model, name):
    for registered_model, trigger in pgtrigger.registered():
        if registered_model is model and trigger.name == name:
            return trigger.get_pgid(model)
    raise AssertionError(f"no trigger {name} on {model}")


@pytest.fixture
def not_owner():
    """The application's role (it owns nothing), given DELETE on the table for
    this test only (it has none: core.dbroles), so only the trigger stands in the way."""
    if not roles_split():
        pytest.skip("one database role for everything (DATABASE_OWNER_URL unset)")
    role = dbroles.application_role()
    schema = connection.schema_name
    with database_owner(), connection.cursor() as cursor:
        cursor.execute(f'GRANT DELETE ON "{schema}".stock_stockitem TO "{role}"')
    return role


def test_a_role_that_owns_nothing_cannot_switch_the_never_delete_trigger_off(reg, not_owner):
    item = register(reg)
    pgid = _trigger_pgid(StockItem, "stockitem_no_delete")
    with pytest.raises(DatabaseError, match="Cannot delete"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'SET LOCAL ROLE "{not_owner}"')
            cursor.execute("SET LOCAL pgtrigger.ignore = %s", ["{" + pgid + "}"])
            cursor.execute("DELETE FROM stock_stockitem WHERE id = %s", [item.pk])
    assert StockItem.objects.filter(pk=item.pk).exists()


@pytest.mark.database_owner
def test_the_owner_role_still_can(reg):
    # What the test suite's own clean-ups (pgtrigger.ignore) rely on.
    item = register(reg)
    with pgtrigger.ignore("stock.StockItem:stockitem_no_delete"):
        StockItem.objects.filter(pk=item.pk).delete()
    assert not StockItem.objects.filter(pk=item.pk).exists()
