"""Celery tasks of reporting (run in the country schema they were sent from;
in-process when no broker is configured)."""

from celery import shared_task


@shared_task(name="reporting.generate")
def generate(run_id: int) -> str:
    from .services import report_generate

    return report_generate(run_id=run_id).status
