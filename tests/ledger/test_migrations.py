"""Moving the custody ledger out of custody into its own app, then signing
its entries: a country that already has entries keeps every one of them, the
database keeps refusing to change or delete them (the triggers were
reinstalled under the ledger's names, the old ones dropped), and the entries
written before signing existed are signed once, by the operator's
ledger_sign_backfill (never the migration), as far as the chain checks out."""

import contextlib
import datetime
import json

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import DatabaseError

from ledger import chain, listeners, services, signing
from ledger.models import LedgerEntry, LedgerHead

# Migrations run as the database owner (tests/database_roles.py).
pytestmark = [pytest.mark.django_db, pytest.mark.database_owner]

SCHEMA = "ledger_move_test"
BEFORE = [("custody", "0002_head_and_settings")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def _latest(*apps):
    graph = MigrationExecutor(connection).loader.graph
    return [node for node in graph.leaf_nodes() if node[0] in apps]


def _old_entries(count: int) -> list[tuple]:
    """Entries as the custody app wrote them: hashed, chained."""
    rows, prev = [], chain.GENESIS_HASH
    start = datetime.datetime(2026, 1, 5, 8, 0, tzinfo=datetime.UTC)
    for n in range(1, count + 1):
        entry = LedgerEntry(
            sequence=n,
            event="registered",
            occurred_at=start + datetime.timedelta(hours=n),
            actor_name="store.north",
            payload={"weight_kg": f"{n}.500", "sms_number": f"XA-2026-{n:05d}"},
            prev_hash=prev,
        )
        entry.hash = chain.compute_hash(entry)
        rows.append(entry)
        prev = entry.hash
    return rows


@contextlib.contextmanager
def _without_listeners():
    saved = dict(listeners._listeners)
    listeners._listeners.clear()
    try:
        yield
    finally:
        listeners._listeners.update(saved)


def _triggers() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relname = 'custody_ledgerentry' AND NOT t.tgisinternal",
            [SCHEMA],
        )
        return {name for (name,) in cursor.fetchall()}


def _insert(entries) -> None:
    with connection.cursor() as cursor:
        for e in entries:
            cursor.execute(
                "INSERT INTO custody_ledgerentry (sequence, event, occurred_at, actor_name,"
                " payload, prev_hash, hash) VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s)",
                [
                    e.sequence,
                    e.event,
                    e.occurred_at,
                    e.actor_name,
                    json.dumps(e.payload),
                    e.prev_hash,
                    e.hash,
                ],
            )
        cursor.execute(
            "UPDATE custody_ledgerhead SET last_sequence = %s, last_hash = %s WHERE id = 1",
            [entries[-1].sequence, entries[-1].hash],
        )


@pytest.fixture
def old_schema():
    """A country schema migrated as it was before the move, no entries yet."""
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{SCHEMA}"')
    connection.set_schema(SCHEMA)
    _migrate(BEFORE)


@pytest.fixture
def old_country(old_schema):
    """...with 5 entries, chained and hashed as the custody app wrote them."""
    entries = _old_entries(5)
    _insert(entries)
    return entries


def test_existing_entries_survive_the_move_and_stay_protected(old_country):
    old_triggers = _triggers()
    assert old_triggers == {
        "pgtrigger_ledgerentry_no_delete_d9a2a",
        "pgtrigger_ledgerentry_no_update_9853f",
    }
    _migrate(_latest("custody", "ledger"))

    # Same table, same rows, same chain.
    assert [(e.sequence, e.hash) for e in LedgerEntry.objects.order_by("sequence")] == [
        (e.sequence, e.hash) for e in old_country
    ]
    assert LedgerHead.objects.get(pk=1).last_sequence == 5
    # The migration signs nothing (it could be made to run again on a
    # rewritten chain): the operator's ledger_sign_backfill does, once.
    assert not LedgerEntry.objects.exclude(signature="").exists()
    assert "carries no signature" in chain.verify_chain().problem.message
    plan = services.backfill_sign(by="ops.jane")
    assert not plan.refused and plan.sign_to == 5
    key = signing.public_key()
    for entry in LedgerEntry.objects.all():
        assert signing.entry_signature_valid(entry.hash, entry.signature, key=key)
    head = LedgerHead.objects.get(pk=1)
    assert head.signatures_backfilled_to == 5 and head.signatures_backfilled_at
    result = chain.verify_chain()
    assert result.ok and result.backfilled_to == 5
    assert services.backfill_plan().refused
    # Protected under the ledger app's trigger names only.
    new_triggers = _triggers()
    assert new_triggers == {t.get_pgid(LedgerEntry) for t in LedgerEntry._meta.triggers}
    assert not new_triggers & old_triggers
    entry = LedgerEntry.objects.get(sequence=3)
    for sql in (
        "UPDATE custody_ledgerentry SET actor_name = 'someone else' WHERE id = %s",
        "DELETE FROM custody_ledgerentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="Cannot update|Cannot delete"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [entry.pk])
    # And the next append continues the chain (without the report aggregates'
    # listener: reporting's tables are not migrated in this schema).
    saved = listeners.registered()
    with transaction.atomic(), _without_listeners():
        appended = chain.append(event="registered", actor=None, payload={"weight_kg": "1.000"})
    assert listeners.registered() == saved
    assert appended.sequence == 6 and appended.prev_hash == old_country[-1].hash
    assert chain.verify_chain().ok


def test_signing_existing_entries_stops_where_the_chain_stops_checking_out(old_schema):
    entries = _old_entries(5)
    entries[3].payload = {**entries[3].payload, "weight_kg": "0.001"}  # altered, hash kept
    _insert(entries)
    _migrate(_latest("custody", "ledger"))
    services.backfill_sign(by="ops.jane")

    signed = dict(LedgerEntry.objects.values_list("sequence", "signature"))
    assert all(signed[n] for n in (1, 2, 3)) and not signed[4] and not signed[5]
    assert LedgerHead.objects.get(pk=1).signatures_backfilled_to == 3
    result = chain.verify_chain()
    assert result.problem.sequence == 4
    assert "content no longer matches its hash" in result.problem.message
