"""Appending a batch of entries under one head lock (ledger.chain.batched),
as the ODK sync does: the same chain as one append at a time, entries only
for the changes that commit, a failed unit isolated, the listeners told in
ledger order in the same transaction."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from ledger import chain as ledger
from ledger import listeners
from ledger.models import LedgerEntry, LedgerHead
from stock.models import StockItem
from tests.custody.conftest import register

pytestmark = pytest.mark.django_db


def _head() -> tuple[int, str]:
    head = LedgerHead.objects.get(pk=1)
    return head.last_sequence, head.last_hash


def _new_entries(since: int) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(sequence__gt=since).order_by("sequence"))


@pytest.fixture
def heard():
    lists = []
    name = listeners.register(
        lambda entries: lists.append([e.sequence for e in entries]), name="tests.batch"
    )
    yield lists
    listeners.unregister(name)


def test_a_batch_appends_the_same_chain_as_one_append_at_a_time(reg, heard):
    start, _hash = _head()
    register(reg)  # one at a time, before
    with ledger.batched():
        items = [register(reg, weight_kg=f"{10 + n}.000") for n in range(5)]
        # Nothing is written, nor the head locked, before the batch ends.
        assert _head()[0] == start + 1
        assert not LedgerEntry.objects.filter(item_id__in=[i.pk for i in items]).exists()
    register(reg)  # one at a time, after
    entries = _new_entries(start)
    assert [e.sequence for e in entries] == list(range(start + 1, start + 8))
    assert [e.item_id for e in entries[1:6]] == [i.pk for i in items]
    assert all(e.event == "registered" for e in entries)
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash
        assert after.occurred_at >= before.occurred_at
    assert entries[3].payload["weight_kg"] == "12.000"
    assert _head() == (entries[-1].sequence, entries[-1].hash)
    assert ledger.verify_chain(full=True).ok
    # The listener heard the single appends as lists of one and the batch
    # once, in ledger order: one form for both.
    assert heard == [[start + 1], [e.sequence for e in entries[1:6]], [start + 7]]


def test_a_batch_locks_and_moves_the_head_once(reg):
    with CaptureQueriesContext(connection) as queries:
        with ledger.batched():
            for n in range(4):
                register(reg, weight_kg=f"{10 + n}.000")
    sql = [q["sql"] for q in queries.captured_queries]
    assert sum("custody_ledgerhead" in s and "FOR UPDATE" in s for s in sql) == 1
    assert sum(s.startswith('UPDATE "custody_ledgerhead"') for s in sql) == 1
    # The entries' ids in one statement, their rows in one COPY (core.bulk).
    assert sum("custody_ledgerentry" in s and "nextval" in s for s in sql) == 1
    assert not any(s.startswith('INSERT INTO "custody_ledgerentry"') for s in sql)


def test_a_failed_unit_leaves_no_entry_and_the_others_go_on(reg):
    start, _hash = _head()
    kept = []
    with ledger.batched() as batch:
        for weight in ("11.000", "-1", "13.000"):
            try:
                with batch.isolated():
                    kept.append(register(reg, weight_kg=weight))
            except ValidationError:
                pass
        # A unit that fails after its append: its change and its entry go.
        with pytest.raises(RuntimeError):
            with batch.isolated():
                undone = register(reg, weight_kg="14.000")
                raise RuntimeError("after the append")
    entries = _new_entries(start)
    assert [e.item_id for e in entries] == [i.pk for i in kept]
    assert [e.sequence for e in entries] == [start + 1, start + 2]
    assert not StockItem.objects.filter(pk=undone.pk).exists()
    assert ledger.verify_chain(full=True).ok


def test_a_batch_that_fails_writes_nothing(reg):
    start = _head()
    items = StockItem.objects.count()
    with pytest.raises(RuntimeError):
        with ledger.batched():
            register(reg)
            register(reg)
            raise RuntimeError("the batch fails")
    assert _head() == start
    assert StockItem.objects.count() == items
    # The next append links to the head as it was.
    register(reg)
    assert _new_entries(start[0])[0].prev_hash == start[1]
    assert ledger.verify_chain(full=True).ok


def test_a_failing_listener_undoes_the_whole_batch(reg):
    start = _head()
    items = StockItem.objects.count()

    def refuse(entries):
        raise RuntimeError("listener failed")

    name = listeners.register(refuse, name="tests.refuse")
    try:
        with pytest.raises(RuntimeError, match="listener failed"):
            with ledger.batched():
                register(reg)
                register(reg)
    finally:
        listeners.unregister(name)
    assert _head() == start and StockItem.objects.count() == items


def test_a_nested_batch_is_part_of_the_outer_one(reg):
    start, _hash = _head()
    with ledger.batched():
        register(reg)
        with pytest.raises(ValidationError):
            with ledger.batched():
                register(reg)
                register(reg, weight_kg="-1")
        register(reg)
        assert _head()[0] == start
    assert [e.sequence for e in _new_entries(start)] == [start + 1, start + 2]
    assert ledger.verify_chain(full=True).ok


def test_outside_a_batch_each_append_is_written_at_once(reg):
    start, _hash = _head()
    with transaction.atomic():
        register(reg)
        assert _head()[0] == start + 1


def test_the_register_import_writes_through_the_same_batch(reg, heard):
    # stock.services.items_register_many (the register import) appends its
    # REGISTERED entries in ledger.chain.batched, as the ODK sync does: one
    # head lock, one INSERT, the listeners told once with the whole batch.
    from stock import services as stock_services

    start, _hash = _head()
    registrations = [
        stock_services.registration_check(
            actor=reg.manager_x,
            site=reg.site_x,
            item_type=reg.tusk,
            data={"weight_kg": f"{20 + n}.000", "source": "seizure"},
        )
        for n in range(3)
    ]
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        items = stock_services.items_register_many(
            actor=reg.manager_x,
            registrations=registrations,
            payloads=[{"source": {"row": n + 2}} for n in range(3)],
        )
    sql = [q["sql"] for q in queries.captured_queries]
    assert sum("custody_ledgerhead" in s and "FOR UPDATE" in s for s in sql) == 1
    assert sum("custody_ledgerentry" in s and "nextval" in s for s in sql) == 1
    assert not any(s.startswith('INSERT INTO "custody_ledgerentry"') for s in sql)
    entries = _new_entries(start)
    assert [e.item_id for e in entries] == [i.pk for i in items]
    assert [e.payload["source"]["row"] for e in entries] == [2, 3, 4]
    assert all(e.actor_id == reg.manager_x.pk for e in entries)
    assert heard == [[e.sequence for e in entries]]
    assert _head() == (entries[-1].sequence, entries[-1].hash)
    assert ledger.verify_chain(full=True).ok
