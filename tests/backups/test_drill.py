"""The restore drill: a country's latest backup restored into a scratch
database, its ledger and files checked there, counts compared with
production; the result on the platform console and by e-mail; the scratch
copy dropped. (CI runs this on a small country: the drill of the demo.)"""

import io
import os

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from backups.models import RestoreDrill
from backups.tasks import restore_drill
from sms_platform.celery import app
from stock.models import ItemPhoto
from tests.factories import make_user

from .conftest import CODE, SCHEMA

# New countries, imports and scratch databases: the database owner's work
# (tests/database_roles.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.database_owner]


def _scratch_databases() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            [connection.settings_dict["NAME"] + "\\_drill\\_%"],
        )
        return [row[0] for row in cursor.fetchall()]


def _drill(*args, code=CODE) -> str:
    out = io.StringIO()
    try:
        call_command("restore_drill", "--country", code, *args, stdout=out)
    finally:
        connection.set_schema_to_public()
    return out.getvalue()


def test_the_drill_restores_checks_compares_reports_and_drops_the_copy(
    made, settings, client, public_host
):
    settings.SMS_EXPORT_DIR = ""  # no kept archive: the drill exports afresh
    staff = make_user(username="platform", email="ops@example.org", is_staff=True)

    out = _drill()

    assert "Restore drill of XQ from export: Passed (0 problem(s))." in out
    drill = RestoreDrill.objects.get()
    assert drill.result == RestoreDrill.Result.PASSED and drill.problems == []
    (detail,) = drill.details
    assert detail["archive"] == "a fresh export"
    evidence = detail["evidence"]
    assert evidence["ok"] and evidence["photos_checked"] == 3
    assert evidence["reports_checked"] == 1 and evidence["ledger_checked"] >= 3
    counts = {table: (restored, now) for table, restored, now in detail["counts"]}
    assert counts["stock_stockitem"] == (3, 3)
    assert counts["stock_itemphoto"] == (3, 3)
    assert all(restored == now for restored, now in counts.values())
    assert _scratch_databases() == []

    (message,) = mail.outbox
    assert message.to == ["ops@example.org"]
    assert message.subject == "SMS restore drill passed: XQ"
    assert "XQ: restored from a fresh export" in message.body
    assert "3 photos, 1 report snapshots checked" in message.body

    client.force_login(staff)
    html = client.get("/", HTTP_HOST=public_host).content.decode()
    assert "Restore drills" in html and "Passed" in html and "badge-passed" in html


def test_a_photo_that_no_longer_matches_fails_the_drill_and_is_named(made, settings):
    settings.SMS_EXPORT_DIR = ""
    make_user(username="platform", email="ops@example.org", is_staff=True)
    with schema_context(SCHEMA):
        photo = ItemPhoto.objects.order_by("uploaded_at", "pk").first()
        path = photo.file.path
    with open(path, "r+b") as handle:
        handle.seek(-4, os.SEEK_END)
        handle.write(b"\0\0\0\0")

    with pytest.raises(CommandError, match="The restore drill failed"):
        _drill()

    drill = RestoreDrill.objects.get()
    assert drill.result == RestoreDrill.Result.FAILED
    assert any(
        line.startswith(f"XQ: Photo {photo.pk}") and "does not match its recorded SHA-256" in line
        for line in drill.problems
    ), drill.problems
    assert mail.outbox[0].subject == "SMS restore drill FAILED: XQ"
    assert f"Photo {photo.pk}" in mail.outbox[0].body
    assert _scratch_databases() == []


def test_a_kept_archive_without_its_key_fails_the_drill(transactional_db, settings, tmp_path):
    settings.SMS_EXPORT_DIR = str(tmp_path)
    settings.SMS_EXPORT_PASSPHRASE_FILE = ""
    settings.SMS_EXPORT_IDENTITY_FILE = ""
    (tmp_path / "sms-XA-20260101T000000Z.smsx").write_bytes(b"an archive")
    (tmp_path / "sms-XA-20990101T000000Z.smsx").write_bytes(b"the newest archive")

    with pytest.raises(CommandError):
        _drill("--no-email", code="XA")

    drill = RestoreDrill.objects.get()
    assert drill.result == RestoreDrill.Result.FAILED
    assert drill.problems == [
        "XA: sms-XA-20990101T000000Z.smsx can't be decrypted: set SMS_EXPORT_PASSPHRASE_FILE "
        "or SMS_EXPORT_IDENTITY_FILE."
    ]
    assert mail.outbox == []
    assert _scratch_databases() == []


def test_the_drill_is_scheduled_every_week():
    entry = app.conf.beat_schedule["restore-drill"]
    assert entry["task"] == "backups.restore_drill"
    assert restore_drill.name == entry["task"]
    assert entry["schedule"].day_of_week == {0}
