"""Every ledger entry is signed with the country's key, which lives in a file
and never in the database: someone with the database password who rewrites
an entry and re-hashes the whole chain after it (the hash formula is public)
is caught at the entry they changed."""

import base64
import json
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django_tenants.utils import schema_context

from ledger import chain, signing
from ledger.models import LedgerEntry, LedgerHead
from ledger.selectors import item_timeline
from tests.custody.conftest import register
from tests.ledger.helpers import call_verify_ledger, tamper

pytestmark = pytest.mark.django_db


def test_each_appended_entry_is_signed_with_the_countrys_key(reg):
    item = register(reg)
    entry = LedgerEntry.objects.get(item_id=item.pk)
    assert signing.entry_signature_valid(entry.hash, entry.signature, key=signing.public_key())
    # The signature is over the hash: another hash does not verify.
    assert not signing.entry_signature_valid("0" * 64, entry.signature, key=signing.public_key())


def test_each_country_has_its_own_key(reg, country_b):
    item = register(reg)
    entry = LedgerEntry.objects.get(item_id=item.pk)
    key_a = signing.public_key()
    with schema_context(country_b.schema_name):
        key_b = signing.public_key()
    assert signing.fingerprint(key_a) != signing.fingerprint(key_b)
    # An entry signed for XA does not verify as XB's (nor the other way round).
    assert not signing.entry_signature_valid(entry.hash, entry.signature, key=key_b)


def test_the_key_never_enters_the_database(reg):
    register(reg)
    private = signing.country_private_key()
    raw = private.private_bytes_raw()
    deployment = signing.load_key_file(signing.key_file())
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(e)::text FROM custody_ledgerentry e")
        rows = " ".join(text for (text,) in cursor.fetchall())
        cursor.execute("SELECT row_to_json(h)::text FROM custody_ledgerhead h")
        rows += " ".join(text for (text,) in cursor.fetchall())
    for secret in (raw, deployment):
        assert secret.hex() not in rows
        assert base64.b64encode(secret).decode() not in rows


def _rewrite_and_rehash(entry: LedgerEntry, **changes) -> None:
    """The attack: change ``entry``, recompute its hash and every later hash
    with the public formula, relink them, and move the head — all with the
    triggers switched off, as the database owner can."""
    for name, value in changes.items():
        setattr(entry, name, value)
    prev_hash = entry.prev_hash
    for row in LedgerEntry.objects.filter(sequence__gte=entry.sequence).order_by("sequence"):
        if row.pk == entry.pk:
            row = entry
        row.prev_hash = prev_hash
        row.hash = chain.compute_hash(row)
        tamper(
            "UPDATE custody_ledgerentry SET payload = %s::jsonb, actor_name = %s,"
            " prev_hash = %s, hash = %s WHERE id = %s",
            [
                json.dumps(row.payload),
                row.actor_name,
                row.prev_hash,
                row.hash,
                row.pk,
            ],
        )
        prev_hash = row.hash
    tamper("UPDATE custody_ledgerhead SET last_hash = %s WHERE id = 1", [prev_hash])


def test_rewriting_an_entry_and_rehashing_the_chain_is_caught_at_that_entry(reg):
    items = [register(reg, weight_kg="10.000") for _ in range(4)]
    assert chain.verify_chain().ok
    target = LedgerEntry.objects.get(item_id=items[1].pk)
    _rewrite_and_rehash(target, payload={**target.payload, "weight_kg": "1.000"})

    # The hash chain alone is consistent again...
    head = LedgerHead.objects.get(pk=1)
    last = LedgerEntry.objects.order_by("-sequence").first()
    assert head.last_hash == last.hash == chain.compute_hash(last)
    # ...but the signatures are not.
    result = chain.verify_chain()
    assert not result.ok
    assert result.problem.sequence == target.sequence
    assert "signature does not match" in result.problem.message
    assert result.checked == target.sequence - 1
    # The item's timeline says so too.
    timeline = item_timeline(item=items[1])
    assert not timeline["ok"] and "signature" in timeline["entries"][0].message
    # And verify_ledger names the entry and fails.
    out, error = call_verify_ledger("--country", "XA")
    assert f"LEDGER BROKEN at entry {target.sequence}" in out
    assert "signature does not match" in out and error


def test_entries_after_the_last_complete_check_have_their_signatures_checked(reg):
    register(reg)
    assert chain.verify_chain().ok  # leaves its note: signatures checked up to here
    later = LedgerEntry.objects.get(item_id=register(reg).pk)
    first = LedgerEntry.objects.order_by("sequence").first()
    tamper(
        "UPDATE custody_ledgerentry SET signature = %s WHERE id = %s",
        [first.signature, later.pk],
    )
    result = chain.verify_chain()
    assert result.problem.sequence == later.sequence
    assert "signature does not match" in result.problem.message


def test_an_entry_without_a_signature_is_caught(reg):
    item = register(reg)
    entry = LedgerEntry.objects.get(item_id=item.pk)
    tamper("UPDATE custody_ledgerentry SET signature = '' WHERE id = %s", [entry.pk])
    result = chain.verify_chain()
    assert result.problem.sequence == entry.sequence
    assert "no signature" in result.problem.message


def test_a_signature_copied_from_another_entry_is_caught(reg):
    first, second = register(reg), register(reg)
    a = LedgerEntry.objects.get(item_id=first.pk)
    b = LedgerEntry.objects.get(item_id=second.pk)
    tamper("UPDATE custody_ledgerentry SET signature = %s WHERE id = %s", [a.signature, b.pk])
    assert chain.verify_chain().problem.sequence == b.sequence


def test_entries_signed_with_another_key_do_not_verify(reg, settings, tmp_path):
    register(reg)
    assert chain.verify_chain().ok
    settings.SMS_LEDGER_SIGNING_KEY_FILE = str(tmp_path / "other-key.pem")
    try:
        result = chain.verify_chain()
        assert not result.ok and "signature does not match" in result.problem.message
    finally:
        signing.forget_keys()


def test_development_creates_a_private_key_file_once(settings, tmp_path, in_country_a):
    path = tmp_path / "var" / "ledger-signing-key.pem"
    settings.SMS_LEDGER_SIGNING_KEY_FILE = str(path)
    settings.PRODUCTION = False
    signing.forget_keys()
    try:
        first = signing.fingerprint()
        assert path.is_file()
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert b"PRIVATE KEY" in path.read_bytes()
        signing.forget_keys()
        assert signing.fingerprint() == first  # read back, not made again
        assert not signing.generate_key_file(path)  # never overwritten
    finally:
        signing.forget_keys()


def test_production_never_creates_a_key_and_refuses_a_wrong_one(settings, tmp_path, in_country_a):
    settings.PRODUCTION = True
    settings.SMS_LEDGER_SIGNING_KEY_FILE = str(tmp_path / "missing.pem")
    signing.forget_keys()
    try:
        with pytest.raises(ImproperlyConfigured, match="SMS_LEDGER_SIGNING_KEY_FILE"):
            signing.public_key()
        assert not (tmp_path / "missing.pem").exists()
        wrong = tmp_path / "ecdsa.pem"
        wrong.write_bytes(
            generate_private_key(SECP256R1()).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        settings.SMS_LEDGER_SIGNING_KEY_FILE = str(wrong)
        with pytest.raises(ImproperlyConfigured, match="not an Ed25519 key"):
            signing.public_key()
    finally:
        signing.forget_keys()


def test_an_openssl_generated_key_file_is_accepted(settings, tmp_path, in_country_a):
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("no openssl here")
    path = tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(path)],
        check=True,
        capture_output=True,
    )
    settings.SMS_LEDGER_SIGNING_KEY_FILE = str(path)
    signing.forget_keys()
    try:
        signature = signing.sign_entry("a" * 64)
        assert signing.entry_signature_valid("a" * 64, signature, key=signing.public_key())
    finally:
        signing.forget_keys()
