"""The custody ledger: entries from the register's own services, the hash
chain, the database's refusal to change them, and tamper detection."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django_tenants.utils import schema_context

from ledger import chain as ledger
from ledger.models import LedgerEntry, LedgerHead
from stock import services as stock_services
from tests.custody.conftest import register
from tests.database_roles import database_owner
from tests.ledger.helpers import tamper as _tamper

pytestmark = pytest.mark.django_db


def _new_entries(since: int):
    return list(LedgerEntry.objects.filter(sequence__gt=since).order_by("sequence"))


def _head() -> int:
    return LedgerHead.objects.get(pk=1).last_sequence


def test_register_correct_and_archive_each_append_one_entry(reg):
    start = _head()
    item = register(reg, weight_kg="12.500")
    stock_services.item_correct(
        actor=reg.manager_x, item=item, changes={"weight_kg": "12.400"}, reason="re-weighed"
    )
    import datetime

    stock_services.item_archive(
        actor=reg.manager_x,
        item=item,
        reason="destroyed",
        archived_on=datetime.date.today(),
        authority_reference="MIN/1",
        destruction_method="burnt",
        witnesses="A, B",
    )
    entries = _new_entries(start)
    assert [e.event for e in entries] == ["registered", "correction", "archived"]
    assert [e.sequence for e in entries] == [start + 1, start + 2, start + 3]
    registered, correction, archived = entries
    assert registered.item_id == item.pk and registered.site_id == reg.site_x.pk
    assert registered.actor_id == reg.manager_x.pk
    assert registered.actor_name == reg.manager_x.username
    assert registered.payload["weight_kg"] == "12.500"
    assert registered.payload["sms_number"] == item.sms_number
    assert correction.payload["changes"] == [
        {"field": "weight_kg", "old": "12.500", "new": "12.400"}
    ]
    assert correction.payload["reason"] == "re-weighed"
    assert archived.payload["reason"] == "destroyed"
    # Each links to the one before it.
    assert correction.prev_hash == registered.hash and archived.prev_hash == correction.hash
    assert ledger.verify_chain().ok


def test_a_refused_registration_leaves_no_entry_and_no_gap(reg):
    from django.core.exceptions import ValidationError

    start = _head()
    with pytest.raises(ValidationError):
        register(reg, weight_kg="-1")
    assert _head() == start
    register(reg)
    assert [e.sequence for e in _new_entries(start)] == [start + 1]


def test_the_database_refuses_to_update_or_delete_an_entry(reg):
    register(reg)
    entry = LedgerEntry.objects.order_by("-sequence").first()
    for sql in (
        "UPDATE custody_ledgerentry SET actor_name = 'someone else' WHERE id = %s",
        "DELETE FROM custody_ledgerentry WHERE id = %s",
    ):
        # The trigger, even for the owner (the application's role lacks the privilege).
        with database_owner(), pytest.raises(DatabaseError, match="Cannot update|Cannot delete"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [entry.pk])
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            LedgerEntry.objects.filter(pk=entry.pk).delete()


def test_an_altered_weight_is_caught_and_named(reg):
    items = [register(reg, weight_kg="10.000") for _ in range(3)]
    assert ledger.verify_chain().ok
    target = LedgerEntry.objects.get(item_id=items[1].pk, event="registered")
    _tamper(
        "UPDATE custody_ledgerentry SET payload = jsonb_set(payload, '{weight_kg}', '\"1.000\"')"
        " WHERE id = %s",
        [target.pk],
    )
    result = ledger.verify_chain()
    assert not result.ok
    assert result.problem.sequence == target.sequence
    assert "content no longer matches its hash" in result.problem.message
    # Entries before the altered one still verify.
    assert result.checked == target.sequence - 1


def test_rehashing_an_altered_entry_is_caught_by_its_signature(reg):
    items = [register(reg) for _ in range(2)]
    first = LedgerEntry.objects.get(item_id=items[0].pk)
    first.actor_name = "nobody"
    forged = ledger.compute_hash(first)
    _tamper(
        "UPDATE custody_ledgerentry SET actor_name = 'nobody', hash = %s WHERE id = %s",
        [forged, first.pk],
    )
    result = ledger.verify_chain()
    # The re-hashed entry matches its hash and links to the one before, but
    # not its signature: caught at the altered entry itself (before entries
    # were signed, only at the next entry's link).
    assert result.problem.sequence == first.sequence
    assert "signature does not match" in result.problem.message
    # Re-linking the next entry too is the whole-chain attack of test_signing.py.


def test_a_removed_entry_is_caught(reg):
    items = [register(reg) for _ in range(3)]
    middle = LedgerEntry.objects.get(item_id=items[1].pk)
    _tamper("DELETE FROM custody_ledgerentry WHERE id = %s", [middle.pk])
    result = ledger.verify_chain()
    assert result.problem.sequence == middle.sequence + 1
    assert "missing from the chain" in result.problem.message


def test_a_removed_last_entry_is_caught_by_the_head(reg):
    item = register(reg)
    last = LedgerEntry.objects.get(item_id=item.pk)
    _tamper("DELETE FROM custody_ledgerentry WHERE id = %s", [last.pk])
    result = ledger.verify_chain()
    assert not result.ok
    assert "entries at the end were removed" in result.problem.message


def test_verify_ledger_command_checks_each_country_and_names_the_broken_entry(reg, country_b):
    register(reg)
    out = _call("--country", "XA")
    assert "XA: ledger intact" in out
    assert "XA: every signature matches the country's ledger key" in out
    entry = LedgerEntry.objects.order_by("-sequence").first()
    _tamper(
        "UPDATE custody_ledgerentry SET occurred_at = occurred_at - interval '1 day' WHERE id = %s",
        [entry.pk],
    )
    with pytest.raises(CommandError, match="XA"):
        _call()
    connection.set_schema_to_public()
    with pytest.raises(CommandError):
        _call("--country", "XA")
    # XB's chain is its own and still verifies.
    assert "XB: ledger intact" in _call("--country", "XB")


def _call(*args) -> str:
    import io

    out = io.StringIO()
    try:
        call_command("verify_ledger", *args, stdout=out)
    finally:
        connection.set_schema("xa")
    return out.getvalue()


def test_each_country_has_its_own_chain(reg, country_b):
    item_a = register(reg)
    with schema_context(country_b.schema_name):
        before = _head()
        from tests.stock.conftest import make_register

        other = make_register()
        item_b = register(other)
        assert _head() == before + 1
        assert not LedgerEntry.objects.filter(item_id=item_a.pk).exists()
        assert LedgerEntry.objects.filter(item_id=item_b.pk).count() == 1
        assert ledger.verify_chain().ok
    assert not LedgerEntry.objects.filter(item_id=item_b.pk).exists()
