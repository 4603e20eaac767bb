"""Celery tasks of the ODK sync (run in the country schema they were sent from)."""

import dataclasses

from sms_platform.celery import app

from .sync import sync_country


@app.task(name="odk.sync")
def odk_sync() -> dict:
    """One sync run of the current country (the beat sends it to every country)."""
    return dataclasses.asdict(sync_country())
