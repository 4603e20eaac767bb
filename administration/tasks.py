"""Celery tasks of administration (run in the country schema they were sent from)."""

from celery import shared_task

from tenants.current import current_country

from .evidence import evidence_notify, evidence_verify


@shared_task(name="administration.verify_evidence")
def verify_evidence() -> dict:
    """The nightly evidence check of the current country (the beat sends it to
    every country); e-mails its administrators when something does not verify."""
    country = current_country()
    report = evidence_verify(country_code=country.code)
    notified = evidence_notify(country=country, report=report)
    return {"ok": report.ok, "problems": report.lines(), "notified": notified}
