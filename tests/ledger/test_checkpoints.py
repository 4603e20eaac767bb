"""Signed checkpoints: cutting entries off the end of the ledger and moving
the head back leaves a chain that verifies on its own — a checkpoint taken
before the cut, kept outside the database, catches it."""

import json

import pytest
from django.db import transaction
from django_tenants.utils import schema_context

from ledger import chain, checkpoints
from ledger.models import LedgerEntry, LedgerHead
from tests.custody.conftest import register
from tests.ledger.helpers import call_verify_ledger, cut_the_tail, tamper

pytestmark = pytest.mark.django_db


def test_a_checkpoint_reads_back_from_its_token_its_file_and_a_pdf_copy(reg):
    register(reg)
    checkpoint = checkpoints.take()
    head = LedgerHead.objects.get(pk=1)
    assert (checkpoint.country, checkpoint.sequence, checkpoint.hash) == (
        "XA",
        head.last_sequence,
        head.last_hash,
    )
    assert checkpoints.parse(checkpoint.token()) == checkpoint
    assert checkpoints.parse(checkpoint.as_json()) == checkpoint
    data = json.loads(checkpoint.as_json())
    assert data["format"] == "sms-ledger-checkpoint/1" and data["public_key"]
    # As copied out of a PDF footer: a label before it, its two lines broken anywhere
    # between fields.
    first, second = checkpoint.token_lines()
    copied = "Custody ledger checkpoint (...):\n" + first.replace(" ", "\n", 2) + "\n" + second
    assert checkpoints.parse(copied) == checkpoint
    assert checkpoints.check(checkpoint).ok


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "SMS-LEDGER-CHECKPOINT-1 XA 12",
        "SMS-LEDGER-CHECKPOINT-1 XA twelve 2026-01-01T00:00:00Z " + "0" * 64 + " c2ln",
        '{"format": "something else"}',
    ],
)
def test_what_is_not_a_checkpoint_says_so(text):
    with pytest.raises(checkpoints.CheckpointInvalid):
        checkpoints.parse(text)


def test_removing_the_last_entries_is_caught_by_an_earlier_checkpoint(reg):
    items = [register(reg) for _ in range(4)]
    checkpoint = checkpoints.take()  # e.g. printed on yesterday's manifest
    keep = LedgerEntry.objects.get(item_id=items[1].pk).sequence
    cut_the_tail(keep)

    # The shortened chain verifies on its own: hashes, links, signatures, head.
    assert chain.verify_chain().ok
    # The checkpoint does not.
    result = checkpoints.check(checkpoint)
    assert not result.ok and not result.contained
    assert f"no longer contains checkpoint {checkpoint.sequence}" in result.message
    assert f"ends at entry {keep}" in result.message
    out, error = call_verify_ledger("--checkpoint", checkpoint.token())
    assert "Entries at the end were removed" in out and "XA" in error


def test_a_cut_tail_written_over_by_new_entries_is_caught_too(reg):
    items = [register(reg) for _ in range(3)]
    checkpoint = checkpoints.take()
    keep = LedgerEntry.objects.get(item_id=items[0].pk).sequence
    cut_the_tail(keep)
    # Covering the tracks in the report aggregates too, so the application runs on.
    tamper("DELETE FROM reporting_itemtransition WHERE sequence > %s", [keep])
    for _ in range(3):  # the application carries on, numbering from the cut
        register(reg)
    assert chain.verify_chain().ok
    assert LedgerEntry.objects.filter(sequence=checkpoint.sequence).exists()
    result = checkpoints.check(checkpoint)
    assert not result.ok
    assert f"Entry {checkpoint.sequence} is not the one" in result.message


def test_a_checkpoint_still_contained_passes_after_more_entries(reg, tmp_path):
    register(reg)
    checkpoint = checkpoints.take()
    register(reg)
    result = checkpoints.check(checkpoint)
    assert result.ok and "still contains" in result.message
    # From its file, and from standard input.
    path = tmp_path / checkpoint.filename
    path.write_text(checkpoint.as_json())
    out, error = call_verify_ledger("--checkpoint", str(path))
    assert not error and "still contains" in out and "XA: ledger intact" in out
    out, error = call_verify_ledger("--checkpoint", "-", stdin=checkpoint.token())
    assert not error and "still contains" in out
    out, error = call_verify_ledger("--checkpoint", str(tmp_path / "nowhere.json"))
    assert "Can't read the checkpoint file" in error


def test_a_forged_or_altered_checkpoint_is_refused(reg):
    register(reg)
    checkpoint = checkpoints.take()
    later = checkpoint.token().replace(f" {checkpoint.sequence} ", f" {checkpoint.sequence + 5} ")
    result = checkpoints.check(checkpoints.parse(later))
    assert not result.ok and "signature does not match" in result.message


def test_another_countrys_checkpoint_is_refused(reg, country_b):
    with schema_context(country_b.schema_name):
        theirs = checkpoints.take()
    assert theirs.country == "XB"
    result = checkpoints.check(theirs)  # on XA
    assert not result.ok and "for country XB" in result.message
    out, error = call_verify_ledger("--country", "XA", "--checkpoint", theirs.token())
    assert "for country XB" in error


def test_no_checkpoint_is_signed_for_an_end_that_does_not_verify(reg):
    item = register(reg)
    entry = LedgerEntry.objects.get(item_id=item.pk)
    tamper("UPDATE custody_ledgerhead SET last_hash = %s WHERE id = 1", ["f" * 64])
    with pytest.raises(checkpoints.CheckpointUnavailable):
        checkpoints.take()
    assert isinstance(checkpoints.take_for_document(), checkpoints.Unavailable)
    tamper("UPDATE custody_ledgerhead SET last_hash = %s WHERE id = 1", [entry.hash])
    tamper("UPDATE custody_ledgerentry SET signature = '' WHERE id = %s", [entry.pk])
    with pytest.raises(checkpoints.CheckpointUnavailable):
        checkpoints.take()


def test_a_checkpoint_of_an_empty_ledger_is_contained(in_country_a):
    with transaction.atomic():
        tamper("DELETE FROM custody_ledgerentry", [])
        tamper(
            "UPDATE custody_ledgerhead SET last_sequence = 0, last_hash = %s WHERE id = 1",
            [chain.GENESIS_HASH],
        )
        checkpoint = checkpoints.take()
        assert checkpoint.sequence == 0
        assert checkpoints.check(checkpoint).ok
        transaction.set_rollback(True)
