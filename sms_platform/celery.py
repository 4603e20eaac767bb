"""The one Celery app, tenant-aware: each task runs in the schema it was sent from."""

import os

from celery.schedules import crontab
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sms_platform.settings")

app = CeleryApp("sms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic per-country work is declared in code (django-celery-beat does not
# support Django 6.1); tenant-schemas-celery's scheduler runs each entry in
# every country schema. Apps add their entries here as they need them.
app.conf.beat_schedule = {
    # Pull ODK Collect submissions of each country (odk.tasks; locked per country).
    "odk-sync": {
        "task": "odk.sync",
        "schedule": float(os.environ.get("SMS_ODK_SYNC_SECONDS", "300")),
    },
    # Every night: the ledger, every photo and every report snapshot of each
    # country against their hashes; its administrators are e-mailed what does
    # not verify (administration.tasks).
    "verify-evidence": {
        "task": "administration.verify_evidence",
        "schedule": crontab(
            hour=int(os.environ.get("SMS_EVIDENCE_CHECK_HOUR_UTC", "2")),
            minute=int(os.environ.get("SMS_EVIDENCE_CHECK_MINUTE", "30")),
        ),
    },
    # Each country's signed ledger checkpoint to its administrators, once a day
    # (ledger.tasks): a copy of where the chain ended, outside the database.
    "ledger-checkpoint-mail": {
        "task": "ledger.checkpoint_mail",
        "schedule": crontab(
            hour=int(os.environ.get("SMS_LEDGER_CHECKPOINT_MAIL_HOUR", "5")), minute=0
        ),
    },
    # Every week: each country's latest backup restored into a scratch
    # database and checked there, counts compared with production; the result
    # on the platform console and e-mailed to platform staff (backups.drill).
    "restore-drill": {
        "task": "backups.restore_drill",
        "schedule": crontab(
            day_of_week=os.environ.get("SMS_RESTORE_DRILL_DAY", "sunday"),
            hour=int(os.environ.get("SMS_RESTORE_DRILL_HOUR_UTC", "4")),
            minute=0,
        ),
    },
}
