"""Celery tasks of the register import (run in the country schema they were
sent from; in-process when no broker is configured)."""

from celery import shared_task


@shared_task(name="imports.process")
def process(run_id: int, dry_run: bool) -> str:
    from .services import run_process

    return run_process(run_id=run_id, dry_run=dry_run).status
