"""Celery tasks of the custody ledger (run in the country schema they were
sent from; the tenant-aware beat sends each to every country)."""

from celery import shared_task

from . import services


@shared_task(name="ledger.checkpoint_mail")
def ledger_checkpoint_mail() -> int:
    """E-mail today's signed checkpoint to the current country's administrators."""
    return services.checkpoint_mail()
