"""The evidence check: ``manage.py verify_evidence`` and its nightly run name
every photo, report snapshot and ledger entry that no longer verifies, and
the country's administrators are told."""

import io
import os

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django_tenants.utils import schema_context

from administration.tasks import verify_evidence
from ledger.models import LedgerEntry
from reporting import services as reporting_services
from tests.database_roles import triggers_off
from tests.stock.conftest import image_bytes, make_register, register, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def reg(in_country_a):
    """Sites X and Y, a store manager each, an HQ officer and an administrator."""
    return make_register()


def _call(*args) -> str:
    out = io.StringIO()
    try:
        call_command("verify_evidence", *args, stdout=out)
    finally:
        connection.set_schema("xa")
    return out.getvalue()


def _call_failing(*args) -> str:
    out = io.StringIO()
    try:
        with pytest.raises(CommandError) as exc:
            call_command("verify_evidence", *args, stdout=out)
    finally:
        connection.set_schema("xa")
    return out.getvalue() + str(exc.value)


def _snapshot(reg):
    run = reporting_services.report_request(
        actor=reg.hq,
        kind="summary",
        fmt="csv",
        title="Stock summary",
        params={"start": "2025-01-01", "end": "2025-12-31", "group_by": ["site"]},
    )
    run = reporting_services.report_generate(run_id=run.pk)
    assert run.status == "done"
    return run


def _tamper(sql: str, params):
    # Someone with the database owner's password (tests/database_roles.py).
    with triggers_off("custody_ledgerentry") as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def evidence(reg):
    item = register(reg, photos=[upload(image_bytes()), upload(image_bytes("PNG"), "b.png")])
    photos = list(item.photos.order_by("uploaded_at", "pk"))
    return item, photos, _snapshot(reg)


def test_intact_evidence_verifies(evidence, country_b):
    out = _call("--country", "XA")
    assert "XA: ledger intact" in out
    assert "2 photos and 1 report snapshots checked, 0 problem(s)" in out


def test_each_mismatch_is_named_and_the_command_fails(reg, evidence, country_b):
    item, (swapped, removed), run = evidence
    with open(swapped.file.path, "r+b") as handle:
        handle.seek(-5, os.SEEK_END)
        handle.write(b"\0\0\0\0\0")
    os.remove(removed.file.path)
    with open(run.file.path, "ab") as handle:
        handle.write(b'\n=HYPERLINK("http://x")\n')
    entry = LedgerEntry.objects.order_by("-sequence").first()
    _tamper(
        "UPDATE custody_ledgerentry SET actor_name = 'nobody' WHERE id = %s",
        [entry.pk],
    )

    out = _call_failing("--country", "XA")
    assert "XA: ledger BROKEN" in out
    assert f"Custody ledger broken at entry {entry.sequence}" in out
    assert f"Photo {swapped.pk} of item {item.sms_number} ({swapped.file.name})" in out
    assert "does not match its recorded SHA-256" in out and swapped.sha256 in out
    assert f"Photo {removed.pk} of item {item.sms_number}" in out and "file is missing" in out
    assert f"Report {run.pk} “Stock summary” ({run.file.name})" in out
    assert "The evidence does not verify in: XA" in out

    # Another country's evidence is its own and still verifies.
    assert "0 problem(s)" in _call("--country", "XB")


def test_a_changed_report_is_not_handed_out(reg, evidence, client, host_a):
    _item, _photos, run = evidence
    client.force_login(reg.hq)
    url = reverse("reporting:run_download", args=[run.pk])
    assert client.get(url, HTTP_HOST=host_a).status_code == 200
    with open(run.file.path, "ab") as handle:
        handle.write(b"1,2,3\n")
    response = client.get(url, HTTP_HOST=host_a)
    assert response.status_code == 409
    assert "does not match its recorded fingerprint" in response.content.decode()


def test_nightly_run_emails_the_administrators_only_when_something_fails(reg, evidence, mailoutbox):
    result = verify_evidence.delay().get()  # eager: no broker in the tests
    assert result["ok"] and mailoutbox == []

    _item, (swapped, _other), _run = evidence
    with open(swapped.file.path, "r+b") as handle:
        handle.seek(-5, os.SEEK_END)
        handle.write(b"\1\1\1\1\1")
    result = verify_evidence.delay().get()
    assert not result["ok"] and result["notified"] == 1
    (mail,) = mailoutbox
    assert mail.to == [reg.admin.email]  # the administrator, not the manager or HQ
    assert "Evidence check of Alphaland" in mail.subject
    assert str(swapped.pk) in mail.body and "does not match its recorded SHA-256" in mail.body


def test_nightly_run_checks_only_the_country_it_was_sent_to(reg, evidence, country_b, mailoutbox):
    _item, (swapped, _other), _run = evidence
    os.remove(swapped.file.path)
    with schema_context(country_b.schema_name):
        make_register()
        result = verify_evidence.delay().get()
    assert result == {"ok": True, "problems": [], "notified": 0}
    assert mailoutbox == []


def test_the_beat_runs_the_check_every_night_in_every_country(settings):
    from sms_platform.celery import app

    entry = app.conf.beat_schedule["verify-evidence"]
    assert entry["task"] == verify_evidence.name == "administration.verify_evidence"
    assert app.tasks[entry["task"]].run.__module__ == "administration.tasks"
    schedule = entry["schedule"]
    assert schedule.hour == {2} and schedule.minute == {30}
    # No "tenant_schemas" key: the tenant-aware scheduler sends it to every country.
    assert "tenant_schemas" not in entry
    assert settings.CELERY_BEAT_SCHEDULER.endswith("TenantAwareScheduler")
