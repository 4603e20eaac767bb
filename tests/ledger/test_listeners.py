"""The ledger tells its listeners about each append (ledger.listeners), as a
list of entries (one form, whether one entry or a batch): in the transaction
of the change, after the head has moved, and a listener's failure undoes the
change. Reporting's aggregates listen without the ledger importing
reporting."""

import pytest
from django.db import connection

from ledger import listeners
from ledger.models import LedgerEntry, LedgerHead
from stock.models import StockItem
from tests.custody.conftest import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def listening():
    heard = []

    def listener(entries):
        head = LedgerHead.objects.get(pk=1)
        heard.append(
            {
                "entries": list(entries),
                "in_transaction": connection.in_atomic_block,
                "head": (head.last_sequence, head.last_hash),
            }
        )

    name = listeners.register(listener, name="tests.listening")
    yield heard
    listeners.unregister(name)


def test_reporting_listens_from_its_ready():
    assert "reporting.totals" in listeners.registered()


def test_an_append_tells_each_registered_listener_in_the_same_transaction(reg, listening):
    item = register(reg)
    entry = LedgerEntry.objects.get(item_id=item.pk)
    assert [[e.pk for e in h["entries"]] for h in listening] == [[entry.pk]]
    assert listening[0]["in_transaction"]
    # Called under the head it has just moved (the lock is still held).
    assert listening[0]["head"] == (entry.sequence, entry.hash)


def test_a_failing_listener_undoes_the_change(reg):
    def refuse(entries):
        raise RuntimeError("listener failed")

    before = (StockItem.objects.count(), LedgerEntry.objects.count())
    name = listeners.register(refuse, name="tests.refuse")
    try:
        with pytest.raises(RuntimeError, match="listener failed"):
            register(reg)
    finally:
        listeners.unregister(name)
    assert (StockItem.objects.count(), LedgerEntry.objects.count()) == before


def test_an_unregistered_listener_hears_nothing_more(reg, listening):
    listeners.unregister("tests.listening")
    register(reg)
    assert listening == []
