"""export_country / import_country: a country's whole data in one encrypted
archive, recreated identical — rows, photos, ledger — and refused when the
archive was altered, the key is wrong or the code is taken."""

import hashlib
import io
import json
import tarfile

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django_tenants.utils import schema_context, schema_exists

from administration.evidence import evidence_verify
from backups import crypto
from backups.archive import COUNTRY_ROWS, MANIFEST
from backups.crypto import ArchiveError, Passphrase
from backups.ledgerhead import ledger_checkpoints, signing_key_fingerprint
from backups.services import CountryTaken, country_export, country_import
from ledger.chain import verify_chain
from stock.models import ItemPhoto, StockItem
from tenants.models import Country
from tests.stock.conftest import image_bytes, register, upload

from .conftest import CODE, SCHEMA, drop_country, media_digest, schema_digest

# New countries, imports and scratch databases: the database owner's work
# (tests/database_roles.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.database_owner]

PASSPHRASE = "a long and secret passphrase"


def _passphrase_file(tmp_path, text=PASSPHRASE):
    path = tmp_path / "passphrase.txt"
    path.write_text(text + "\n")
    return str(path)


def _keypair(tmp_path, name="archive-key"):
    key = X25519PrivateKey.generate()
    private = tmp_path / f"{name}.pem"
    public = tmp_path / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return str(private), str(public)


def _call(name, *args) -> str:
    out = io.StringIO()
    try:
        call_command(name, *args, stdout=out)
    finally:
        connection.set_schema_to_public()
    return out.getvalue()


def _export(tmp_path, name="xq.smsx"):
    path = tmp_path / name
    country_export(code=CODE, output=path, encryption=Passphrase(PASSPHRASE))
    return path


def test_a_country_exported_and_imported_after_dropping_it_is_identical(made, media_root, tmp_path):
    rows_before = schema_digest(SCHEMA)
    files_before = media_digest(media_root, SCHEMA)
    with schema_context(SCHEMA):
        photos_before = {p.pk: p.sha256 for p in ItemPhoto.objects.all()}
        items_before = list(StockItem.objects.order_by("pk").values())
        head_before = verify_chain()
    assert len(photos_before) == 3 and head_before.ok and head_before.checked >= 3
    private, public = _keypair(tmp_path)

    out = _call("export_country", CODE, "--output", str(tmp_path), "--recipient", public)
    (archive,) = tmp_path.glob("sms-XQ-*.smsx")
    assert f"XQ exported to {archive}" in out
    assert f"ledger at entry {head_before.checked}" in out

    drop_country()
    assert not schema_exists(SCHEMA) and not Country.objects.filter(code=CODE).exists()

    out = _call("import_country", str(archive), "--identity", private)
    assert "XQ imported" in out and "3 media files" not in out
    assert "XQ: ledger intact" in out and "0 problem(s)" in out

    # Row for row, file for file, the same.
    assert schema_digest(SCHEMA) == rows_before
    assert media_digest(media_root, SCHEMA) == files_before
    country = Country.objects.get(code=CODE)
    assert (country.name, country.default_language, country.time_zone) == (
        "Qualand",
        "fr",
        "Africa/Nairobi",
    )
    assert country.domains.get().domain == country.host
    with schema_context(SCHEMA):
        assert list(StockItem.objects.order_by("pk").values()) == items_before
        assert {p.pk: p.sha256 for p in ItemPhoto.objects.all()} == photos_before
        report = evidence_verify(country_code=CODE)
        assert report.ok and report.photos_checked == 3 and report.reports_checked == 1
        assert verify_chain().checked == head_before.checked

        # The never-delete triggers came back with the tables.
        with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic():
            StockItem.objects.filter(pk=items_before[0]["id"]).delete()
    # Another country was not touched: its rows are still its own.
    assert Country.objects.filter(code="XA").exists()


def test_an_altered_archive_is_refused_before_anything_is_written(made, media_root, tmp_path):
    archive = _export(tmp_path)
    drop_country()

    # A byte of the ciphertext changed: the chunk no longer authenticates.
    damaged = tmp_path / "damaged.smsx"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="damaged or was altered"):
        country_import(path=damaged, decryption=Passphrase(PASSPHRASE))

    # Re-encrypted by someone holding the passphrase, one photo swapped but
    # the manifest kept: the manifest's SHA-256 no longer matches.
    members = _members(archive)
    photo = next(name for name in members if name.startswith("media/items/"))
    members[photo] = members[photo] + b"tampered"
    forged = tmp_path / "forged.smsx"
    _write_members(forged, members)
    with pytest.raises(ArchiveError, match="does not match its manifest") as refused:
        country_import(path=forged, decryption=Passphrase(PASSPHRASE))
    assert photo in str(refused.value)

    # A manifest whose row counts were changed to match a cut schema: the
    # restore's own check rolls it back.
    members = _members(archive)
    manifest = json.loads(members[MANIFEST])
    manifest["tables"]["stock_stockitem"] += 1
    members[MANIFEST] = json.dumps(manifest).encode()
    recounted = tmp_path / "recounted.smsx"
    _write_members(recounted, members)
    with pytest.raises(ArchiveError, match="stock_stockitem has 3 rows"):
        country_import(path=recounted, decryption=Passphrase(PASSPHRASE))

    # Country settings this deployment would not accept, manifest made to
    # match: refused before anything is written.
    members = _members(archive)
    rows = json.loads(members[COUNTRY_ROWS])
    rows["country"]["two_factor_policy"] = "nobody"
    members[COUNTRY_ROWS] = json.dumps(rows).encode()
    manifest = json.loads(members[MANIFEST])
    manifest["files"][COUNTRY_ROWS] = {
        "sha256": hashlib.sha256(members[COUNTRY_ROWS]).hexdigest(),
        "size": len(members[COUNTRY_ROWS]),
    }
    members[MANIFEST] = json.dumps(manifest).encode()
    unsettled = tmp_path / "unsettled.smsx"
    _write_members(unsettled, members)
    with pytest.raises(ArchiveError, match="two_factor_policy"):
        country_import(path=unsettled, decryption=Passphrase(PASSPHRASE))

    assert not schema_exists(SCHEMA)
    assert not Country.objects.filter(code=CODE).exists()


def test_a_wrong_passphrase_is_refused_with_a_clear_message(made, tmp_path):
    archive = _export(tmp_path)
    with pytest.raises(CommandError, match="Wrong passphrase"):
        _call(
            "import_country",
            str(archive),
            "--passphrase-file",
            _passphrase_file(tmp_path, "not the right passphrase"),
        )
    private, _public = _keypair(tmp_path)
    with pytest.raises(CommandError, match="encrypted with a passphrase"):
        _call("import_country", str(archive), "--identity", private)
    with pytest.raises(CommandError, match="at least 12 characters"):
        _call(
            "export_country",
            CODE,
            "--output",
            str(tmp_path / "short.smsx"),
            "--passphrase-file",
            _passphrase_file(tmp_path, "short"),
        )


def test_a_taken_code_is_refused(made, tmp_path):
    archive = _export(tmp_path)
    before = schema_digest(SCHEMA)
    with pytest.raises(CountryTaken, match="The code XQ is taken"):
        country_import(path=archive, decryption=Passphrase(PASSPHRASE))
    with pytest.raises(CommandError, match="use --replace"):
        _call("import_country", str(archive), "--passphrase-file", _passphrase_file(tmp_path))
    assert schema_digest(SCHEMA) == before


def test_replace_restores_one_country_in_a_running_platform_and_nothing_else(
    made, media_root, tmp_path, country_a
):
    archive = _export(tmp_path)
    rows_at_export = schema_digest(SCHEMA)
    other_country = schema_digest("xa")
    with schema_context(SCHEMA):
        # Work after the export, which the restore takes back.
        later = register(made.reg, photos=[upload(image_bytes(color=(1, 2, 3)))])
        assert StockItem.objects.count() == 4
    assert schema_digest(SCHEMA) != rows_at_export

    out = _call(
        "import_country", str(archive), "--replace", "--passphrase-file", _passphrase_file(tmp_path)
    )
    assert "XQ imported" in out and "XQ: ledger intact" in out
    assert schema_digest(SCHEMA) == rows_at_export
    with schema_context(SCHEMA):
        assert not StockItem.objects.filter(pk=later.pk).exists()
    # The schema as it was is kept aside, named in the output.
    (kept,) = [line for line in out.splitlines() if "kept as" in line]
    kept_schema = kept.split("kept as ")[1].split(";")[0]
    assert kept_schema.startswith("xq_replaced_") and schema_exists(kept_schema)
    assert Country.objects.filter(code=CODE).count() == 1
    # Other countries untouched.
    assert schema_digest("xa") == other_country

    # --replace of a country that isn't there is refused.
    drop_country()
    with pytest.raises(ArchiveError, match="no country XQ here to replace"):
        country_import(path=archive, decryption=Passphrase(PASSPHRASE), replace=True)


# --- Helpers that rewrite an archive as someone holding its passphrase could ----------------


def _members(path) -> dict[str, bytes]:
    with open(path, "rb") as raw:
        reader = crypto.DecryptingReader(raw, Passphrase(PASSPHRASE))
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            return {m.name: tar.extractfile(m).read() for m in tar}


def _write_members(path, members: dict[str, bytes]) -> None:
    with open(path, "wb") as raw:
        writer = crypto.EncryptingWriter(raw, Passphrase(PASSPHRASE))
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        writer.close()


@pytest.mark.skipif(ledger_checkpoints is None, reason="the ledger does not sign yet")
def test_the_manifest_carries_the_ledger_head_signed(made, tmp_path):
    result = country_export(
        code=CODE, output=tmp_path / "xq.smsx", encryption=Passphrase(PASSPHRASE)
    )
    ledger = result.manifest["ledger"]
    with schema_context(SCHEMA):
        head = verify_chain()
        fingerprint = signing_key_fingerprint(SCHEMA)
    assert ledger["sequence"] == head.last_sequence >= 3
    assert ledger["key_fingerprint"] == fingerprint
    assert ledger["signature"] and ledger["public_key"]
    assert f" {CODE} {head.last_sequence} " in ledger["checkpoint"]
    assert ledger["hash"] in ledger["checkpoint"]
