"""The database itself refuses to delete register rows, in every country schema."""

import datetime

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from stock import services
from stock.models import ArchiveRecord, ItemChange, ItemPhoto, StockItem
from tests.database_roles import database_owner
from tests.stock.conftest import image_bytes, register, upload

PROTECTED = {
    "stock_stockitem": {"pgtrigger_stockitem_no_delete"},
    "stock_itemphoto": {"pgtrigger_itemphoto_no_delete", "pgtrigger_itemphoto_no_update"},
    "stock_itemchange": {"pgtrigger_itemchange_no_delete", "pgtrigger_itemchange_no_update"},
    "stock_archiverecord": {
        "pgtrigger_archiverecord_no_delete",
        "pgtrigger_archiverecord_no_update",
    },
    "stock_fielddefinitionchange": {
        "pgtrigger_fielddefchange_no_delete",
        "pgtrigger_fielddefchange_no_update",
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize("schema", ["xa", "xb"])
def test_triggers_exist_in_every_country_schema(country_a, country_b, schema):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND NOT t.tgisinternal",
            [schema],
        )
        found = {}
        for table, name in cursor.fetchall():
            # pgtrigger appends a hash of the definition to the name.
            found.setdefault(table, set()).add(name.rsplit("_", 1)[0])
    for table, names in PROTECTED.items():
        assert names <= found.get(table, set()), table


def _refused(callable_):
    # The trigger refuses whoever asks, the owner too. (The application's role
    # is refused before the trigger runs, for want of the privilege:
    # tests/core/test_dbroles.py.)
    with database_owner(), pytest.raises(DatabaseError, match="Cannot delete|Cannot update"):
        with transaction.atomic():
            callable_()


@pytest.mark.django_db
def test_delete_of_an_item_is_refused_by_sql_and_by_the_orm(reg):
    item = register(reg, photos=[upload(image_bytes())])
    services.item_correct(
        actor=reg.manager_x, item=item, changes={"weight_kg": "12.4"}, reason="re-weighed"
    )

    def raw_delete():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM stock_stockitem WHERE id = %s", [item.pk])

    _refused(raw_delete)
    _refused(lambda: StockItem.objects.filter(pk=item.pk).delete())
    _refused(lambda: ItemPhoto.objects.filter(item=item).delete())
    _refused(lambda: ItemChange.objects.filter(item=item).delete())
    _refused(lambda: ItemChange.objects.filter(item=item).update(reason="nothing"))
    # A photo's hash can't be rewritten to match a swapped file.
    _refused(lambda: ItemPhoto.objects.filter(item=item).update(sha256="0" * 64))
    _refused(lambda: ItemPhoto.objects.filter(item=item).update(file="items/other.jpg"))
    assert StockItem.objects.filter(pk=item.pk).exists()
    assert ItemPhoto.objects.filter(item=item).count() == 1
    assert ItemChange.objects.get(item=item).reason == "re-weighed"


@pytest.mark.django_db
def test_archive_records_cannot_be_deleted_or_rewritten(reg):
    item = register(reg)
    services.item_archive(
        actor=reg.manager_x,
        item=item,
        reason="destroyed",
        archived_on=datetime.date.today(),
        authority_reference="Order 12/2026",
        destruction_method="Burnt",
        witnesses="A. Witness, B. Witness",
    )
    _refused(lambda: ArchiveRecord.objects.filter(item=item).delete())
    _refused(lambda: ArchiveRecord.objects.filter(item=item).update(reason="legal_sale"))

    def raw_delete():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM stock_archiverecord")

    _refused(raw_delete)
    assert ArchiveRecord.objects.get(item=item).reason == "destroyed"
