"""Every item's recorded fields against the custody ledger (stock.ledger_check):
what the services write always agrees; a direct UPDATE of an item's row by
someone with the database password is named, item by item and field by field,
by the check and by ``verify_evidence``."""

import datetime
import io
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from stock import services
from stock.ledger_check import items_verify
from stock.models import StockItem
from tests.database_roles import database_owner
from tests.stock.conftest import register

pytestmark = pytest.mark.django_db


def _mismatches():
    return {(m.sms_number, m.field): (m.recorded, m.expected) for m in items_verify()[1]}


def _as_owner(sql: str, params) -> None:
    # Someone with the database owner's password: no trigger stands in the way
    # of an UPDATE of an item's row, and no ledger entry is written.
    with database_owner(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _as_application(sql: str, params) -> None:
    # The application's own login (the default role in the tests) may UPDATE
    # items too: it is how the services write them.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_what_the_services_write_agrees_with_the_ledger(reg):
    kept = register(reg, weight_kg="12.500")
    corrected = register(reg, weight_kg="4.000")
    services.item_correct(
        actor=reg.manager_x,
        item=corrected,
        changes={"weight_kg": "3.25", "item_type": reg.cut_piece.pk, "length_outer_cm": "15"},
        reason="re-weighed, it is a piece",
    )
    archived = register(reg, weight_kg="2.000")
    services.item_archive(
        actor=reg.manager_x,
        item=archived,
        reason="destroyed",
        archived_on=datetime.date.today(),
        authority_reference="Order 7/2026",
        destruction_method="Incineration",
        witnesses="J. Banda; M. Phiri",
    )
    lot = register(reg, item_type=reg.scales, site=reg.site_y, actor=reg.manager_y)
    services.item_correct(
        actor=reg.manager_y, item=lot, changes={"pieces": 480}, reason="recounted"
    )

    checked, mismatches = items_verify()
    assert checked == 4
    assert mismatches == []
    assert {kept.pk, corrected.pk, archived.pk, lot.pk}  # all four were checked


@pytest.mark.parametrize(
    ("column", "value", "field", "expected"),
    [
        ("weight_kg", "11.000", "weight_kg", "12.500"),
        ("status", "archived", "status", "in_stock"),
        ("pieces", 7, "pieces", "1"),
        ("cites_mark", "XA/IV/2026/999", "cites_mark", None),
    ],
)
def test_a_direct_update_of_an_item_is_named(reg, column, value, field, expected):
    item = register(reg, weight_kg="12.500")
    other = register(reg, weight_kg="1.000")
    if field == "cites_mark":
        expected = item.cites_mark
    _as_owner(f"UPDATE stock_stockitem SET {column} = %s WHERE id = %s", [value, item.pk])  # noqa: S608

    found = _mismatches()
    assert list(found) == [(item.sms_number, field)]
    recorded, ledger_says = found[(item.sms_number, field)]
    assert ledger_says == expected
    assert recorded == str(value)
    assert (other.sms_number, field) not in found


def test_a_move_or_a_retype_without_the_ledger_is_named_by_site_and_type_codes(reg):
    item = register(reg)
    _as_application(
        "UPDATE stock_stockitem SET site_id = %s, item_type_id = %s WHERE id = %s",
        [reg.site_y.pk, reg.cut_piece.pk, item.pk],
    )
    found = _mismatches()
    assert found[(item.sms_number, "site")] == ("site-y", "site-x")
    assert found[(item.sms_number, "item_type")] == ("cut-piece", "whole-tusk")


def test_a_correction_then_an_update_back_is_caught(reg):
    # The ledger's latest word counts: putting the old weight back by hand
    # after a correction is a mismatch too.
    item = register(reg, weight_kg="12.500")
    services.item_correct(
        actor=reg.manager_x, item=item, changes={"weight_kg": "10.000"}, reason="re-weighed"
    )
    assert _mismatches() == {}
    _as_owner("UPDATE stock_stockitem SET weight_kg = 12.5 WHERE id = %s", [item.pk])
    assert _mismatches() == {(item.sms_number, "weight_kg"): ("12.500", "10.000")}


def test_an_item_inserted_around_the_services_is_named(reg):
    item = register(reg)
    twin = StockItem.objects.get(pk=item.pk)
    twin.id = uuid.uuid4()
    twin.sms_number = "XA-2026-999999"
    twin.cites_mark, twin.mark_year, twin.mark_serial = None, None, None
    twin.save(force_insert=True)  # a save, no service: no ledger entry
    (mismatch,) = items_verify()[1]
    assert mismatch.sms_number == "XA-2026-999999" and mismatch.unregistered


def test_verify_evidence_names_the_item_and_the_field_and_fails(reg):
    item = register(reg, weight_kg="12.500")
    out = io.StringIO()
    call_command("verify_evidence", "--country", "XA", stdout=out)
    connection.set_schema("xa")
    assert "1 items against the ledger" in out.getvalue()

    _as_owner("UPDATE stock_stockitem SET weight_kg = 1.000 WHERE id = %s", [item.pk])
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_evidence", "--country", "XA", stdout=out)
    connection.set_schema("xa")
    text = out.getvalue()
    assert (
        f"Item {item.sms_number}: its weight_kg is 1.000, but the custody ledger says 12.500"
        in text
    )


def test_the_nightly_check_tells_the_administrators_of_a_changed_item(reg, mailoutbox):
    from administration.tasks import verify_evidence

    item = register(reg, weight_kg="12.500")
    assert verify_evidence.delay().get()["ok"]  # eager: no broker in the tests
    _as_application("UPDATE stock_stockitem SET status = 'archived' WHERE id = %s", [item.pk])
    result = verify_evidence.delay().get()
    assert not result["ok"] and result["notified"] == 1
    (mail,) = mailoutbox
    assert f"Item {item.sms_number}: its status is archived" in mail.body
    assert "the custody ledger says in_stock" in mail.body
