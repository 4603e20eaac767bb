"""Reporting writes (country schema): ask for a report, generate it.

``report_request`` records what was asked (a ReportRun) and queues its
generation after the commit; ``report_generate`` (the Celery task's body)
builds the document from the custody ledger with the requester's site
scope, renders it, and stores the file with its SHA-256 — after which the
database refuses any change to the snapshot.
"""

import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.permissions import require
from core.errors import raise_errors
from core.text import text_errors
from ledger.models import LedgerHead
from tenants.current import current_country

from .models import REASONS_MAX_LENGTH, CitesFiling, PrivateHolding, ReportRun

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
    run = ReportRun.objects.select_related("requested_by").get(pk=run_id)
    if run.status in (ReportRun.Status.DONE, ReportRun.Status.FAILED):
        return run
    # A Celery worker has no request: the file is in the requester's language.
    with translation.override(_requester_language(run.requested_by)):
        return _generate(run)


def _requester_language(user) -> str:
    """The language the requester reads the pages in: their own choice, else
    the country's default (as accounts.middleware chooses for a page)."""
    known = {code for code, _name in settings.LANGUAGES}
    if user is not None and user.language in known:
        return user.language
    country = current_country()
    if country is not None and country.default_language in known:
        return country.default_language
    return settings.LANGUAGE_CODE


def _generate(run: ReportRun) -> ReportRun:
    from .documents import build, snapshot
    from .exports import render

    run_id = run.pk
    _progress(run, 5, status=ReportRun.Status.RUNNING)
    try:
        # Built and rendered in one snapshot: the long lists a document
        # streams (the CITES annex) are read as it is rendered, at the same
        # moment as its figures.
        with snapshot():
            document = build(run.kind, run.parameters, user=run.requested_by, reasons=run.reasons)
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


@transaction.atomic
def cites_file(*, actor, kind: str, year: int, reasons: str = "") -> CitesFiling:
    """File the country's CITES declaration of ``kind`` for ``year``: freeze
    its figures, the items held at 31 December, the reasons, who and when,
    and the ledger entry it was computed up to.

    Refused before the year has ended, twice for the same year, by a user who
    does not see every site (a declaration is the country's), and without
    reasons when the change is significant (cites.needs_reasons)."""
    from . import cites
    from .figures import Scope

    require(actor, "reporting.file_cites_declaration")
    reasons = (reasons or "").strip()
    errors = {}
    scope = Scope.of_user(actor)
    if scope.site_ids is not None:
        errors["__all__"] = [_("Only a user who sees every site can file the declaration.")]
    if kind not in cites.KINDS:
        errors["kind"] = [_("Choose a declaration from the list.")]
    elif not cites.year_ended(year):
        errors["year"] = [_("A declaration can be filed once its year has ended.")]
    elif CitesFiling.objects.filter(kind=kind, year=year).exists():
        errors["year"] = [_("This declaration has already been filed.")]
    errors.update(text_errors(CitesFiling, limits={"reasons": REASONS_MAX_LENGTH}, reasons=reasons))
    raise_errors(errors)
    # One snapshot: the ledger's head is locked while the figures are read
    # (new custody entries wait), so they are exactly those up to its sequence.
    LedgerHead.objects.select_for_update().filter(pk=1).first()
    result = cites.declaration(kind=kind, year=year, scope=scope, with_items=True)
    if cites.needs_reasons(result) and not reasons:
        raise_errors(
            {
                "reasons": [
                    _(
                        "The stock changed significantly or was destroyed in part: "
                        "give the reasons before filing."
                    )
                ]
            }
        )
    items = {
        item_id: [key, holding.pieces, str(holding.weight_kg)]
        for item_id, (key, holding) in result.items.items()
    }
    return CitesFiling.objects.create(
        kind=kind,
        year=year,
        snapshot={
            "classes": {
                f.key: [f.total.items, f.total.pieces, str(f.total.weight_kg)]
                for f in result.classes
            },
            "total": [result.total.items, result.total.pieces, str(result.total.weight_kg)],
        },
        items=items,
        reasons=reasons,
        ledger_sequence=result.ledger_sequence,
        filed_by=actor,
        filed_by_name=(getattr(actor, "display_name", "") or actor.get_username())[:150],
    )


HOLDING_FIELDS = (
    "holder",
    "place",
    "declared_on",
    "raw_whole_pieces",
    "raw_whole_kg",
    "raw_cut_pieces",
    "raw_cut_kg",
    "worked_pieces",
    "worked_kg",
    "documents",
    "ended_on",
)


@transaction.atomic
def private_holding_record(*, actor, data: dict) -> PrivateHolding:
    """Record a declared private ivory stock (the country's: by those who
    file, seeing every site)."""
    from .figures import Scope

    require(actor, "reporting.file_cites_declaration")
    if Scope.of_user(actor).site_ids is not None:
        raise_errors({"__all__": [_("Only a user who sees every site can record private stocks.")]})
    values = {name: data.get(name) for name in HOLDING_FIELDS if name in data}
    errors = text_errors(
        PrivateHolding,
        **{k: v for k, v in values.items() if k in ("holder", "place", "documents")},
    )
    if (
        values.get("ended_on")
        and values.get("declared_on")
        and (values["ended_on"] < values["declared_on"])
    ):
        errors["ended_on"] = [_("This date can't be before the date declared.")]
    raise_errors(errors)
    return PrivateHolding.objects.create(recorded_by=actor, **values)
