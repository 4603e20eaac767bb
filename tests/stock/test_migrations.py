"""PendingCorrection moved from the administration app to stock (migrations
stock 0005, administration 0002): the table, its rows, its protection and the
permission roles hold all come through.

Run in country A's schema inside the test's transaction: PostgreSQL's DDL is
transactional, so going back and forth is rolled back with the rest.
"""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from stock import services
from stock.models import PendingCorrection, StockItem
from tests.stock.conftest import register

# Migrations and new schemas: the database owner's work (tests/database_roles.py).
pytestmark = [pytest.mark.django_db, pytest.mark.database_owner]

BEFORE = [("administration", "0001_initial"), ("stock", "0006_form_submission")]
# Back to stock's latest migration: the test goes on with today's models.
AFTER = [("administration", "0002_pendingcorrection_to_stock"), ("stock", "0009_item_mark_parts")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    return executor.loader.project_state(targets).apps


def test_a_correction_waiting_before_the_move_is_still_waiting_after(reg):
    item = register(reg)
    # The foreign keys are checked at commit: check them now, before the DDL
    # (going back past stock 0009 alters the item table).
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    old_apps = _migrate(BEFORE)
    Old = old_apps.get_model("administration", "PendingCorrection")
    asked = Old.objects.create(
        item_id=item.pk,
        changes={"weight_kg": "10.000"},
        current={"weight_kg": "12.500"},
        reason="Re-weighed",
        requested_by_id=reg.manager_x.pk,
    )
    # The foreign keys are checked at commit: check them now, before the DDL.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert ContentType.objects.filter(app_label="administration", model="pendingcorrection")

    _migrate(AFTER)
    pending = PendingCorrection.objects.get(pk=asked.pk)
    assert (pending.item_id, pending.changes, pending.status) == (
        item.pk,
        {"weight_kg": "10.000"},
        "pending",
    )
    # Still never deleted (the trigger now carries stock's name).
    with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic():
        PendingCorrection.objects.filter(pk=pending.pk).delete()
    # The content type is stock's; administrators kept the permission to approve.
    assert ContentType.objects.get_for_model(PendingCorrection).app_label == "stock"
    assert not ContentType.objects.filter(app_label="administration", model="pendingcorrection")
    admin = get_user_model().objects.get(pk=reg.admin.pk)
    assert admin.has_perm("administration.approve_correction")
    services.correction_approve(actor=admin, pending=pending)
    assert StockItem.objects.get(pk=item.pk).weight_kg == Decimal("10.000")
