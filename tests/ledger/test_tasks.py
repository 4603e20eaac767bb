"""The daily e-mail of each country's signed checkpoint to its administrators:
the beat entry, the task in the country it runs in, and what the e-mail
carries (a checkpoint that verify_ledger accepts)."""

import pytest
from celery.schedules import crontab
from django.core import mail
from django_tenants.utils import schema_context

from accounts.roles import SMS_ADMINISTRATOR
from ledger import checkpoints, signing
from ledger.tasks import ledger_checkpoint_mail
from tests.custody.conftest import register
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_the_beat_sends_the_checkpoint_mail_to_every_country_once_a_day(settings):
    from sms_platform.celery import app

    entry = app.conf.beat_schedule["ledger-checkpoint-mail"]
    assert entry["task"] == ledger_checkpoint_mail.name == "ledger.checkpoint_mail"
    assert app.tasks[entry["task"]].run.__module__ == "ledger.tasks"
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert schedule.hour == {settings.SMS_LEDGER_CHECKPOINT_MAIL_HOUR} and schedule.minute == {0}
    # No tenant_schemas: the tenant-aware scheduler sends it to every country.
    assert "tenant_schemas" not in entry


def test_the_administrators_get_a_checkpoint_they_can_check(reg, country_b):
    register(reg)
    reg.admin.email = "admin@xa.example"
    reg.admin.save(update_fields=["email"])
    reg.manager_x.email = "manager@xa.example"
    reg.manager_x.save(update_fields=["email"])
    mail.outbox.clear()

    assert ledger_checkpoint_mail.delay().get() == 1
    (message,) = mail.outbox
    assert message.to == ["admin@xa.example"]  # not the store manager
    assert "custody ledger checkpoint" in message.subject
    (name, content, mimetype) = message.attachments[0]
    assert mimetype == "application/json" and name.startswith("ledger-checkpoint-XA-")
    checkpoint = checkpoints.parse(content)
    assert checkpoint.token() in message.body
    assert signing.fingerprint() in message.body
    assert checkpoints.check(checkpoint).ok

    # Country B's run mails B's administrators B's checkpoint.
    mail.outbox.clear()
    with schema_context(country_b.schema_name):
        make_user(role=SMS_ADMINISTRATOR, email="admin@xb.example")
        ledger_checkpoint_mail.delay().get()
    assert [m.to for m in mail.outbox] == [["admin@xb.example"]]
    assert checkpoints.parse(mail.outbox[0].attachments[0][1]).country == "XB"


def test_a_ledger_whose_end_does_not_verify_gets_a_warning_instead(reg):
    from tests.ledger.helpers import tamper

    register(reg)
    reg.admin.email = "admin@xa.example"
    reg.admin.save(update_fields=["email"])
    tamper("UPDATE custody_ledgerhead SET last_hash = %s WHERE id = 1", ["f" * 64])
    mail.outbox.clear()
    ledger_checkpoint_mail.delay().get()
    (message,) = mail.outbox
    assert "does not verify" in message.subject
    assert not message.attachments
