"""pgtrigger lets a session switch a trigger off with ``SET pgtrigger.ignore``;
SMS keeps that for the owner role only (sms_platform.postgresql_backend), so
the application's own role can't use it to delete a never-delete row."""

import pgtrigger
import pytest
from django.db import Error as DatabaseError
from django.db import connection, transaction

from stock.models import StockItem
from tests.stock.conftest import register

pytestmark = pytest.mark.django_db

ROLE = "sms_test_not_owner"


def _trigger_pgid(model, name):
    for registered_model, trigger in pgtrigger.registered():
        if registered_model is model and trigger.name == name:
            return trigger.get_pgid(model)
    raise AssertionError(f"no trigger {name} on {model}")


@pytest.fixture
def not_owner():
    """A role like the application's: owns nothing, may delete rows of the table."""
    schema = connection.schema_name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {ROLE}")
        cursor.execute(f"CREATE ROLE {ROLE} NOLOGIN")
        cursor.execute(f'GRANT USAGE ON SCHEMA "{schema}", public TO {ROLE}')
        cursor.execute(f'GRANT SELECT, DELETE ON "{schema}".stock_stockitem TO {ROLE}')
    return ROLE


def test_a_role_that_owns_nothing_cannot_switch_the_never_delete_trigger_off(reg, not_owner):
    item = register(reg)
    pgid = _trigger_pgid(StockItem, "stockitem_no_delete")
    with pytest.raises(DatabaseError, match="Cannot delete"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {not_owner}")
            cursor.execute("SET LOCAL pgtrigger.ignore = %s", ["{" + pgid + "}"])
            cursor.execute("DELETE FROM stock_stockitem WHERE id = %s", [item.pk])
    assert StockItem.objects.filter(pk=item.pk).exists()


def test_the_owner_role_still_can(reg):
    # What the test suite's own clean-ups (pgtrigger.ignore) rely on.
    item = register(reg)
    with pgtrigger.ignore("stock.StockItem:stockitem_no_delete"):
        StockItem.objects.filter(pk=item.pk).delete()
    assert not StockItem.objects.filter(pk=item.pk).exists()
