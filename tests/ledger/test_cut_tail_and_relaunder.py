"""From the database owner's side, without the signing key: cutting the tail
of the ledger after it was checked, and having a routine migration re-sign a
rewritten chain. Both must be caught (README, "Signing and checkpoints")."""

import io
import json

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from administration.evidence import evidence_verify
from ledger import chain, checkpoints, signing, witness
from ledger.models import LedgerEntry, LedgerHead
from tests.custody.conftest import register
from tests.database_roles import database_owner
from tests.ledger.helpers import call_verify_ledger, cut_the_tail, tamper

pytestmark = pytest.mark.django_db


def test_a_tail_cut_after_the_page_checked_the_chain_fails_the_next_check(reg):
    items = [register(reg) for _ in range(4)]
    assert chain.verify_chain().ok  # the Ledger check page, an hour ago
    last = LedgerHead.objects.get(pk=1).last_sequence
    keep = LedgerEntry.objects.get(item_id=items[1].pk).sequence
    cut_the_tail(keep)

    result = chain.verify_chain()
    assert not result.ok and result.problem.sequence == keep + 1
    assert "entries removed since the last check" in result.problem.message
    assert f"({last} was verified on " in result.problem.message
    # And the note is not replaced by the shorter chain: it fails again, and
    # no checkpoint is signed for the shorter chain (the page offers none).
    assert not chain.verify_chain().ok
    with pytest.raises(checkpoints.CheckpointUnavailable):
        checkpoints.take()


def test_a_tail_cut_after_the_nightly_check_fails_every_check_and_no_checkpoint_is_signed(reg):
    items = [register(reg) for _ in range(4)]
    assert evidence_verify(country_code="XA").ok  # the nightly run keeps a checkpoint
    kept = witness.recorded_checkpoint()
    assert kept and kept["sequence"] == LedgerHead.objects.get(pk=1).last_sequence
    cache.clear()  # another process: nothing remembered in the cache
    keep = LedgerEntry.objects.get(item_id=items[0].pk).sequence
    cut_the_tail(keep)

    report = evidence_verify(country_code="XA")
    assert not report.ok
    assert "entries removed since the last check" in report.ledger_problem
    assert f"({kept['sequence']} was verified on " in report.ledger_problem
    out, error = call_verify_ledger("--country", "XA")
    assert "entries removed since the last check" in out and "XA" in error
    # Nothing signs the shorter chain's end (documents print "does not verify").
    with pytest.raises(checkpoints.CheckpointUnavailable):
        checkpoints.take()
    assert isinstance(checkpoints.take_for_document(), checkpoints.Unavailable)
    # Still caught once the application has written over the cut.
    tamper("DELETE FROM reporting_itemtransition WHERE sequence > %s", [keep])
    for _ in range(4):
        register(reg)
    result = chain.verify_chain(full=True)
    assert not result.ok and "is not the one verified on" in result.problem.message


def test_a_chain_that_keeps_growing_passes_and_moves_the_kept_checkpoint(reg):
    register(reg)
    out, error = call_verify_ledger("--country", "XA")
    assert not error
    first = witness.recorded_checkpoint()["sequence"]
    register(reg)
    cache.clear()
    out, error = call_verify_ledger("--country", "XA")
    assert not error and "ledger intact" in out
    assert witness.recorded_checkpoint()["sequence"] > first


def _relaunder_by_migration():
    """launder.py: rewrite an entry and re-hash the rest, drop the signatures,
    forget migrations ledger 0002/0003, run the routine migrate."""
    entries = list(LedgerEntry.objects.order_by("sequence"))
    target = entries[1]
    prev = entries[0].hash
    with database_owner(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE custody_ledgerentry DISABLE TRIGGER USER")
        for entry in entries[1:]:
            if entry.pk == target.pk:
                entry.payload = {**entry.payload, "weight_kg": "0.001"}
            entry.prev_hash = prev
            entry.hash = chain.compute_hash(entry)
            cursor.execute(
                "UPDATE custody_ledgerentry SET payload = %s, prev_hash = %s, hash = %s"
                " WHERE id = %s",
                [json.dumps(entry.payload), entry.prev_hash, entry.hash, entry.pk],
            )
            prev = entry.hash
        cursor.execute("UPDATE custody_ledgerhead SET last_hash = %s", [prev])
        cursor.execute("ALTER TABLE custody_ledgerentry ENABLE TRIGGER USER")
        cursor.execute("ALTER TABLE custody_ledgerentry DROP COLUMN signature")
        cursor.execute(
            "ALTER TABLE custody_ledgerhead DROP COLUMN signatures_backfilled_at,"
            " DROP COLUMN signatures_backfilled_to"
        )
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'ledger'"
            " AND name IN ('0002_entry_signatures', '0003_truncate_refused')"
        )
        executor = MigrationExecutor(connection)
        executor.migrate([("ledger", "0003_truncate_refused")])
    return target


def _backfill(*args) -> tuple[str, str]:
    out, error = io.StringIO(), ""
    try:
        # The operator runs it as the database owner (connect_as_owner; in
        # the tests the connection switches roles instead).
        with database_owner():
            call_command("ledger_sign_backfill", "--country", "XA", *args, stdout=out)
    except CommandError as exc:
        error = str(exc)
    finally:
        connection.set_schema("xa")
    return out.getvalue(), error


def test_a_rewritten_ledger_is_not_re_signed_by_a_routine_migrate(reg):
    for _ in range(3):
        register(reg)
    assert evidence_verify(country_code="XA").ok  # a checkpoint kept last night
    target = _relaunder_by_migration()

    # The migration signed nothing: the check names the first entry.
    result = chain.verify_chain(full=True)
    assert not result.ok and result.problem.sequence == 1
    assert "carries no signature" in result.problem.message
    assert not LedgerEntry.objects.exclude(signature="").exists()
    # And the operator's command refuses to sign it, saying why.
    out, error = _backfill("--confirm")
    assert "signed before; nothing signed" in error
    assert "checkpoint of entry" in out and "written after the signing key was made" in out
    assert not LedgerEntry.objects.exclude(signature="").exists()
    assert LedgerEntry.objects.get(pk=target.pk).payload["weight_kg"] == "0.001"
    assert not chain.verify_chain(full=True).ok


def test_without_any_record_outside_the_database_entries_newer_than_the_key_still_refuse(reg):
    for _ in range(2):
        register(reg)
    _relaunder_by_migration()
    assert witness.read() == {}
    out, error = _backfill("--confirm")
    assert "written after the signing key was made" in out and error
    assert not LedgerEntry.objects.exclude(signature="").exists()


def test_the_upgrade_path_signs_old_entries_once_with_the_operator_s_confirmation(in_country_a):
    from tests.ledger.test_migrations import _old_entries

    entries = _old_entries(4)  # written in January, before the key existed
    with database_owner(), connection.cursor() as cursor:
        for e in entries:
            cursor.execute(
                "INSERT INTO custody_ledgerentry (sequence, event, occurred_at, actor_name,"
                " payload, prev_hash, hash, signature) VALUES (%s, %s, %s, %s, %s::jsonb,"
                " %s, %s, '')",
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
            "UPDATE custody_ledgerhead SET last_sequence = 4, last_hash = %s WHERE id = 1",
            [entries[-1].hash],
        )
    assert "carries no signature" in chain.verify_chain(full=True).problem.message

    out, error = _backfill()  # says what it would do, does nothing
    assert not error and "entries 1 to 4 of 4 check out and would be signed" in out
    assert "run again with --confirm" in out
    assert not LedgerEntry.objects.exclude(signature="").exists()

    out, error = _backfill("--confirm", "--operator", "ops.jane")
    assert not error and "recorded as signed by ops.jane" in out
    key = signing.public_key()
    assert all(
        signing.entry_signature_valid(e.hash, e.signature, key=key)
        for e in LedgerEntry.objects.all()
    )
    head = LedgerHead.objects.get(pk=1)
    assert head.signatures_backfilled_to == 4 and head.signatures_backfilled_at
    out, error = call_verify_ledger("--country", "XA")
    assert not error and "ledger intact" in out
    assert "entries 1 to 4 were written before signing existed" in out and "by ops.jane" in out

    out, error = _backfill("--confirm")  # never twice
    assert "signed before; nothing signed" in error and "by ops.jane" in out
