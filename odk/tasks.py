"""Celery tasks of the ODK sync (run in the country schema they were sent from)."""

import dataclasses

from celery import shared_task

from .sync import sync_country


@shared_task(name="odk.sync")
def odk_sync() -> dict:
    """One sync run of the current country (the beat sends it to every country)."""
    return dataclasses.asdict(sync_country())
