"""Celery tasks of the ODK sync (run in the country schema they were sent from)."""

from sms_platform.celery import app

from .sync import sync_country


@app.task(name="odk.sync")
def odk_sync() -> dict:
    """One sync run of the current country (the beat sends it to every country)."""
    report = sync_country()
    return report.__dict__
