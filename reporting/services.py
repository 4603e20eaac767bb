"""Reporting writes (country schema): ask for a report, generate it.

``report_request`` records what was asked (a ReportRun) and queues its
generation after the commit; ``report_generate`` (the Celery task's body)
builds the document from the custody ledger with the requester's site
scope, renders it, and stores the file with its SHA-256 — after which the
database refuses any change to the snapshot.
"""

import hashlib
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.permissions import require
from core.errors import raise_errors
from core.text import text_errors

from .models import REASONS_MAX_LENGTH, ReportRun

logger = logging.getLogger(__name__)


@transaction.atomic
def report_request(
    *, actor, kind: str, fmt: str, title: str, params: dict, reasons: str = ""
) -> ReportRun:
    """Record the request and queue the generation (in-process without a broker)."""
    require(actor, "reporting.export_reports")
    errors = {}
    if kind not in ReportRun.Kind.values:
        errors["kind"] = [_("Choose a report from the list.")]
    if fmt not in ReportRun.Format.values:
        errors["format"] = [_("Choose XLSX, CSV or PDF.")]
    errors.update(
        text_errors(
            ReportRun, limits={"reasons": REASONS_MAX_LENGTH}, reasons=(reasons or "").strip()
        )
    )
    raise_errors(errors)
    run = ReportRun.objects.create(
        kind=kind,
        format=fmt,
        title=title[:200],
        parameters=params,
        reasons=(reasons or "").strip(),
        requested_by=actor,
    )
    from .tasks import generate

    transaction.on_commit(lambda: generate.delay(run.pk))
    return run


def _progress(run: ReportRun, percent: int, **fields) -> None:
    run.progress = percent
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=["progress", *fields])


def report_generate(*, run_id: int) -> ReportRun:
    """Build, render and store one report. A failure is recorded on the run
    (status failed, the error) rather than raised: the page polling it says so."""
    from .documents import build
    from .exports import render

    run = ReportRun.objects.select_related("requested_by").get(pk=run_id)
    if run.status in (ReportRun.Status.DONE, ReportRun.Status.FAILED):
        return run
    _progress(run, 5, status=ReportRun.Status.RUNNING)
    try:
        document = build(run.kind, run.parameters, user=run.requested_by, reasons=run.reasons)
        _progress(run, 60)
        content = render(document, run.format)
        _progress(run, 90)
        with transaction.atomic():
            name = f"{slugify(run.title)[:60] or run.kind}.{run.format}"
            run.file.save(name, ContentFile(content), save=False)
            run.sha256 = hashlib.sha256(content).hexdigest()
            run.size_bytes = len(content)
            run.ledger_sequence = document.ledger_sequence
            run.site_ids = document.site_ids
            run.status = ReportRun.Status.DONE
            run.progress = 100
            run.finished_at = timezone.now()
            run.save()
    except Exception as exc:  # noqa: BLE001 - any failure is shown to the requester
        logger.exception("report %s failed", run_id)
        ReportRun.objects.filter(pk=run.pk, sha256="").update(
            status=ReportRun.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        run.refresh_from_db()
    return run
