"""Bringing in the register a country already has (country schema).

The path of a file: ``run_upload`` keeps it (and its photo ZIP) with their
SHA-256 and reads its headers and store names; ``mapping_save`` records the
mapping step's answers (kept for the next file); ``run_request`` queues a
check (the dry run) or the import in Celery (imports.tasks), which calls
``run_process``. Each row is checked by the stock services' own
registration check (``stock.services.registration_check``: the web form's
rules, one rule) and, for an item the old register holds as archived, by
the archive service's; the import writes the valid rows in chunks through
``stock.services.items_register_many`` (one transaction per chunk: items,
totals, their REGISTERED ledger entries naming the file, its SHA-256, the
sheet and the row, and the row as it was) and archives the archived ones
through ``stock.services.item_archive``.

Idempotent: each row's content is hashed (ImportedRow.row_key); a row
already imported, from this file or another, is never imported again.
Nothing is saved by a check, nor by an import that finds a refused row
unless the person chose to import the valid rows only.

Who: ``imports.import_register`` (SMS administrators), and only into the
stores of their scope (a row for another store is refused). Every check,
import and download is in the access log.
"""

import datetime
import hashlib
import json
import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.permissions import require
from audit.services import AccessAction, Origin, event_record
from core.bulk import copy_create
from core.words import yes_no
from stock import services as stock_services
from stock.custom_fields import definitions_cached
from stock.models import ItemType, Site, StockItem
from stock.scope import visible_sites
from tenants.current import current_country

from . import sheets
from .columns import (
    ARCHIVE_FIELDS,
    BOOLEAN,
    CHOICE,
    CUSTOM_PREFIX,
    DATE,
    IGNORE_TARGET,
    MULTI,
    NOTES_TARGET,
    PHOTOS,
    Column,
    columns_for_country,
    normalise,
)
from .models import ColumnMapping, ImportedRow, ImportRun, StoreMapping

logger = logging.getLogger(__name__)

PERMISSION = "imports.import_register"
CHUNK = 500
# Rows of a report shown on the page (the checked file has them all).
REPORT_LIMIT = 1000
ARCHIVE_NAMES = {"archive_reason": "reason"}
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d")


# --- The country's columns and the file's mapping -----------------------------------


def country_languages() -> list[str]:
    country = current_country()
    languages = list(getattr(country, "languages", None) or [])
    default = getattr(country, "default_language", "") or "en"
    return [default, *[lang for lang in languages if lang != default]] or ["en"]


def country_columns(language: str | None = None) -> list[Column]:
    languages = country_languages()
    return columns_for_country(language or translation.get_language() or languages[0], languages)


def match_headers(headers: list[str], columns: list[Column]) -> dict[str, str]:
    """{header: target}: a column key, NOTES_TARGET (free text kept in the
    notes) or IGNORE_TARGET. By label in any of the country's languages, by
    key, then by a mapping saved at an earlier import; else kept in notes."""
    saved = dict(ColumnMapping.objects.values_list("header", "target"))
    known = {c.key for c in columns}
    result = {}
    for header in headers:
        if not header:
            continue
        name = normalise(header)
        target = next((c.key for c in columns if name in c.names), None)
        if target is None:
            target = saved.get(name)
            if target not in known | {NOTES_TARGET, IGNORE_TARGET}:
                target = NOTES_TARGET
        result[header] = target
    return result


def _store_lookup() -> dict[str, int]:
    lookup = {}
    for pk, code, name in Site.objects.values_list("pk", "code", "name"):
        lookup.setdefault(normalise(code), pk)
        lookup.setdefault(normalise(name), pk)
    for name, site_id in StoreMapping.objects.values_list("name", "site_id"):
        lookup[name] = site_id
    return lookup


def _origin_details(run: ImportRun) -> dict:
    return {"file": run.file_name, "sha256": run.sha256, "sheet": run.sheet}


@transaction.atomic
def run_upload(
    *, actor, upload, photos=None, sheet: str = "", origin: Origin | None = None
) -> ImportRun:
    """Keep the uploaded spreadsheet (and photo ZIP), read its headers and
    its store names, and match them: the run waits for the mapping step."""
    require(actor, PERMISSION)
    content = upload.read()
    name = (getattr(upload, "name", "") or "register.xlsx").rsplit("/", 1)[-1][:200]
    try:
        sheet_read = sheets.open_sheet(content, sheet=sheet)
    except sheets.SheetError as exc:
        raise ValidationError(
            {
                "file": [
                    _("This file could not be read as an XLSX spreadsheet: %(why)s") % {"why": exc}
                ]
            }
        ) from None
    run = ImportRun(
        file_name=name,
        sha256=hashlib.sha256(content).hexdigest(),
        sheet=sheet_read.name,
        requested_by=actor,
        requested_at=timezone.now(),
    )
    run.file.save(name, ContentFile(content), save=False)
    if photos is not None:
        data = photos.read()
        if not zipfile.is_zipfile(_bytes_file(data)):
            raise ValidationError({"photos": [_("The photos must come as one ZIP file.")]})
        run.photos_name = (getattr(photos, "name", "") or "photos.zip").rsplit("/", 1)[-1][:200]
        run.photos_sha256 = hashlib.sha256(data).hexdigest()
        run.photos.save(run.photos_name, ContentFile(data), save=False)
    columns = country_columns()
    matched = match_headers(sheet_read.headers, columns)
    store_header = next((h for h, t in matched.items() if t == "site"), None)
    stores = _store_lookup()
    unknown_stores: dict[str, int] = {}
    rows = 0
    index = sheet_read.headers.index(store_header) if store_header else None
    for _number, values in sheet_read.rows:
        rows += 1
        if index is not None and values[index] is not None:
            text = str(values[index])
            if normalise(text) not in stores:
                unknown_stores[text] = unknown_stores.get(text, 0) + 1
    run.columns = matched
    run.analysis = {
        "headers": sheet_read.headers,
        "header_row": sheet_read.header_row,
        "rows": rows,
        "unknown_stores": unknown_stores,
        "matched": sorted(h for h, t in matched.items() if t not in (NOTES_TARGET, IGNORE_TARGET)),
    }
    run.rows_total = rows
    run.save()
    return run


def _bytes_file(data: bytes):
    import io

    return io.BytesIO(data)


@transaction.atomic
def mapping_save(*, actor, run: ImportRun, columns: dict, stores: dict) -> ImportRun:
    """The mapping step's answers for ``run``, kept for the country's next file.

    ``columns``: {header: target}; ``stores``: {store name as in the file: site}."""
    require(actor, PERMISSION)
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    if run.is_busy or run.status == ImportRun.Status.DONE:
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("This file is being processed or was imported.")]}
        )
    known = {c.key for c in country_columns()} | {NOTES_TARGET, IGNORE_TARGET}
    errors = {}
    headers = run.analysis.get("headers", [])
    clean_columns = {}
    for header in headers:
        if not header:
            continue
        target = columns.get(header, run.columns.get(header, NOTES_TARGET))
        if target not in known:
            errors.setdefault("columns", []).append(
                _("“%(header)s”: choose a field from the list.") % {"header": header}
            )
            continue
        clean_columns[header] = target
    used = [t for t in clean_columns.values() if t not in (NOTES_TARGET, IGNORE_TARGET)]
    for target in sorted({t for t in used if used.count(t) > 1}):
        errors.setdefault("columns", []).append(
            _("Two columns are mapped to the same field (%(field)s).") % {"field": target}
        )
    visible = {s.pk: s for s in visible_sites(actor)}
    clean_stores = {}
    for name, site in stores.items():
        site_id = getattr(site, "pk", site)
        if site_id in (None, ""):
            continue
        if int(site_id) not in visible:
            errors.setdefault("stores", []).append(
                _("“%(name)s”: choose one of your stores.") % {"name": name}
            )
            continue
        clean_stores[name] = int(site_id)
    if errors:
        raise ValidationError(errors)
    auto = match_headers(headers, country_columns())
    for header, target in clean_columns.items():
        if (
            target != auto.get(header)
            or ColumnMapping.objects.filter(header=normalise(header)).exists()
        ):
            ColumnMapping.objects.update_or_create(
                header=normalise(header)[:200], defaults={"target": target, "updated_by": actor}
            )
    for name, site_id in clean_stores.items():
        StoreMapping.objects.update_or_create(
            name=normalise(name)[:200], defaults={"site_id": site_id, "updated_by": actor}
        )
    run.columns = clean_columns
    run.stores = {**run.stores, **{k: v for k, v in clean_stores.items()}}
    run.save(update_fields=["columns", "stores"])
    return run


@transaction.atomic
def run_request(
    *,
    actor,
    run: ImportRun,
    dry_run: bool,
    valid_only: bool = False,
    origin: Origin | None = None,
    queue: bool = True,
) -> ImportRun:
    """Queue a check (``dry_run``) or the import of ``run`` in Celery (in
    process without a broker); recorded in the access log. ``queue=False``:
    the caller (the command) runs ``run_process`` itself."""
    require(actor, PERMISSION)
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    if run.is_busy:
        raise ValidationError({NON_FIELD_ERRORS: [_("This file is already being processed.")]})
    if run.status == ImportRun.Status.DONE and not dry_run:
        raise ValidationError({NON_FIELD_ERRORS: [_("This file was imported already.")]})
    run.status = ImportRun.Status.QUEUED
    run.valid_only = bool(valid_only) and not dry_run
    run.progress = 0
    run.error = ""
    run.save(update_fields=["status", "valid_only", "progress", "error"])
    event_record(
        user=actor,
        action=AccessAction.IMPORT_CHECK if dry_run else AccessAction.IMPORT_RUN,
        origin=origin,
        obj=run,
        details={**_origin_details(run), "valid_only": run.valid_only},
    )
    if queue:
        from .tasks import process  # the task module imports this one

        transaction.on_commit(lambda: process.delay(run.pk, dry_run))
    return run


# --- Reading one row ----------------------------------------------------------------


@dataclass
class Row:
    number: int
    values: dict  # {header: value as read, JSON-ready}
    key: str = ""
    state: str = ""  # "valid", "refused", "known"
    errors: dict = field(default_factory=dict)  # {header or "": [messages]}
    warnings: list = field(default_factory=list)
    registration: object = None
    archive: dict | None = None
    photo_names: list = field(default_factory=list)


class _Context:
    """What reading every row needs, looked up once per run."""

    def __init__(self, *, actor, run: ImportRun, headers: list[str]):
        self.actor = actor
        self.columns = {c.key: c for c in country_columns()}
        self.headers = headers
        self.targets = [run.columns.get(h, NOTES_TARGET) if h else IGNORE_TARGET for h in headers]
        self.header_of = {t: h for h, t in zip(headers, self.targets, strict=True)}
        self.sites = {s.pk: s for s in Site.objects.all()}
        self.site_lookup = _store_lookup()
        for name, site_id in (run.stores or {}).items():
            self.site_lookup[normalise(name)] = int(site_id)
        self.types = {}
        for item_type in ItemType.objects.select_related("category"):
            for name in {item_type.code, *(item_type.labels or {}).values()}:
                self.types.setdefault(normalise(name), item_type)
        self.known_keys: set[str] = set()
        self.marks_seen: dict[str, int] = {}
        self.occurrences: dict[str, int] = {}
        self.zip = None
        self.zip_names: dict[str, str] = {}
        if run.photos:
            with run.photos.open("rb") as handle:
                self.zip = zipfile.ZipFile(_bytes_file(handle.read()))
            for info in self.zip.infolist():
                if not info.is_dir():
                    self.zip_names.setdefault(
                        info.filename.rsplit("/", 1)[-1].casefold(), info.filename
                    )

    def photo(self, name: str):
        """The ZIP's file ``name`` as an upload for the photo checks, or None."""
        path = self.zip_names.get(name.rsplit("/", 1)[-1].strip().casefold()) if self.zip else None
        if path is None:
            return None
        info = self.zip.getinfo(path)
        return _ZipPhoto(self.zip, info)


class _ZipPhoto:
    """A photo inside the ZIP, read only if its declared size is allowed."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo):
        self._archive, self._info = archive, info
        self.name = info.filename.rsplit("/", 1)[-1]
        self.size = info.file_size

    def read(self) -> bytes:
        with self._archive.open(self._info) as handle:
            return handle.read(settings.SMS_PHOTO_MAX_BYTES + 1)


def _date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()  # noqa: DTZ007 (a day)
        except ValueError:
            continue
    return text  # the service says it is no date


def _cell_for_service(column: Column, value):
    """The cell as the stock services take it (they do the checking)."""
    if value is None:
        return None
    if column.kind == DATE:
        return _date(value)
    if column.kind == BOOLEAN:
        answer = yes_no(value)
        return answer if answer is not None else value
    if column.kind == CHOICE:
        return column.aliases.get(normalise(value), str(value))
    if column.kind == MULTI:
        parts = re.split(r"[;,\n]+|\s{2,}", str(value))
        return [column.aliases.get(normalise(p), p.strip()) for p in parts if p.strip()]
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value) if not isinstance(value, int | bool) else value


def row_key(values: dict) -> str:
    text = json.dumps(
        sorted((normalise(k), v) for k, v in values.items() if v is not None), default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def read_row(ctx: _Context, number: int, cells: list, *, with_photos: bool) -> Row:
    """Check one row with the stock services' checks; nothing is written."""
    values = {h: sheets.jsonable_cell(v) for h, v in zip(ctx.headers, cells, strict=True) if h}
    row = Row(number=number, values=values)
    base = row_key(values)
    occurrence = ctx.occurrences.get(base, 0)
    ctx.occurrences[base] = occurrence + 1
    row.key = (
        base if occurrence == 0 else hashlib.sha256(f"{base}#{occurrence}".encode()).hexdigest()
    )
    if row.key in ctx.known_keys:
        row.state = "known"
        return row

    data, custom, archive, extra_notes = {}, {}, {}, []
    site = item_type = mark = None
    photo_text = ""
    errors: dict[str, list[str]] = {}
    for header, target, value in zip(ctx.headers, ctx.targets, cells, strict=True):
        if target == IGNORE_TARGET or not header:
            continue
        if target == NOTES_TARGET:
            if value is not None:
                extra_notes.append(f"{header}: {sheets.jsonable_cell(value)}")
            continue
        column = ctx.columns[target]
        if target == "item_type":
            if value is None:
                errors[header] = [_("Give the item type.")]
            else:
                item_type = ctx.types.get(normalise(value))
                if item_type is None:
                    errors[header] = [
                        _("“%(value)s” is not an item type of this country.") % {"value": value}
                    ]
        elif target == "site":
            if value is None:
                errors[header] = [_("Give the store.")]
            else:
                site = ctx.sites.get(ctx.site_lookup.get(normalise(value)))
                if site is None:
                    errors[header] = [
                        _("“%(value)s” is not a store of this country: map it to one.")
                        % {"value": value}
                    ]
        elif target == "cites_mark":
            mark = None if value is None else str(value)
        elif target == PHOTOS:
            photo_text = "" if value is None else str(value)
        elif target in ARCHIVE_FIELDS:
            archive[ARCHIVE_NAMES.get(target, target)] = _cell_for_service(column, value)
        elif target.startswith(CUSTOM_PREFIX):
            custom[target[len(CUSTOM_PREFIX) :]] = _cell_for_service(column, value)
        else:
            data[target] = _cell_for_service(column, value)
    if "item_type" not in ctx.header_of:
        errors[""] = [_("The sheet has no column for the item type.")]
    if "site" not in ctx.header_of:
        errors.setdefault("", []).append(_("The sheet has no column for the store."))
    if extra_notes:
        data["notes"] = "\n".join([*filter(None, [data.get("notes")]), *extra_notes])
    photos = []
    row.photo_names = [n.strip() for n in re.split(r"[;,\n]+", photo_text) if n.strip()]
    for name in row.photo_names:
        upload = ctx.photo(name)
        if upload is None:
            errors.setdefault(ctx.header_of.get(PHOTOS, ""), []).append(
                _("The photo %(name)s is not in the ZIP file.") % {"name": name}
            )
        else:
            photos.append(upload)
    if site is not None and item_type is not None:
        try:
            row.registration = stock_services.registration_check(
                actor=ctx.actor,
                site=site,
                item_type=item_type,
                data=data,
                custom_values=custom,
                photos=photos,
                cites_mark=mark,
                permission=PERMISSION,
            )
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                header, messages = _placed(ctx, key, messages)
                errors.setdefault(header, []).extend(messages)
        if row.registration is not None:
            row.warnings.extend(row.registration.warnings)
            parsed = row.registration.mark.parsed if row.registration.mark else None
            if parsed is not None:
                serial_key = f"{parsed.series}|{parsed.year}|{parsed.serial}"
                first = ctx.marks_seen.get(serial_key)
                if first is not None:
                    errors.setdefault(ctx.header_of.get("cites_mark", ""), []).append(
                        _("Serial %(serial)s of %(year)s is also on row %(row)s of this file.")
                        % {"serial": parsed.serial, "year": parsed.year, "row": first}
                    )
                else:
                    ctx.marks_seen[serial_key] = number
    if any(v not in (None, "") for v in archive.values()):
        received = row.registration.clean.get("received_on") if row.registration else None
        archive_errors = stock_services.archive_check_new(
            received_on=received,
            reason=archive.get("reason") or "",
            archived_on=archive.get("archived_on"),
            authority_reference=str(archive.get("authority_reference") or ""),
            destruction_method=str(archive.get("destruction_method") or ""),
            witnesses=str(archive.get("witnesses") or ""),
            incident_reference=str(archive.get("incident_reference") or ""),
        )
        for key, messages in archive_errors.items():
            header, messages = _placed(ctx, key, messages)
            errors.setdefault(header, []).extend(messages)
        row.archive = archive
    row.errors = errors
    row.state = "refused" if errors else "valid"
    if not with_photos and row.registration is not None:
        # Checked; read (and checked) again when written, chunk by chunk, so
        # a large file's photos are never all held at once.
        row.registration.photos = []
    return row


def _placed(ctx: _Context, key: str, messages: list) -> tuple[str, list]:
    """(the header of the column a stock service's error is about, its
    messages); "" for the row as a whole, the messages then naming the field
    when the file has no column for it."""
    if key == NON_FIELD_ERRORS:
        return "", list(messages)
    if key.startswith("custom_"):
        key = CUSTOM_PREFIX + key[len("custom_") :]
    key = {"reason": "archive_reason"}.get(key, key)
    header = ctx.header_of.get(key)
    if header:
        return header, list(messages)
    column = ctx.columns.get(key)
    label = column.header if column is not None else key
    return "", [f"{label}: {message}" for message in messages]


# --- The check and the import -------------------------------------------------------


def _progress(run: ImportRun, percent: int, **fields) -> None:
    run.progress = max(0, min(100, percent))
    for name, value in fields.items():
        setattr(run, name, value)
    ImportRun.objects.filter(pk=run.pk).update(progress=run.progress, **fields)


def check_rows(
    *, actor, run: ImportRun, on_progress: Callable[[int, int], None] | None = None
) -> tuple[list[Row], sheets.Sheet]:
    """Every row of ``run``'s file read and checked (nothing written)."""
    with run.file.open("rb") as handle:
        content = handle.read()
    sheet = sheets.open_sheet(content, sheet=run.sheet)
    ctx = _Context(actor=actor, run=run, headers=sheet.headers)
    ctx.known_keys = set(ImportedRow.objects.values_list("row_key", flat=True))
    rows = []
    total = max(1, run.rows_total)
    with definitions_cached(), stock_services.mark_holders_cached():
        for number, cells in sheet.rows:
            rows.append(read_row(ctx, number, cells, with_photos=False))
            if on_progress and len(rows) % 250 == 0:
                on_progress(len(rows), total)
    run._context = ctx  # the import reads photos again through it
    return rows, sheet


def _report(rows: list[Row]) -> list[dict]:
    problems = [r for r in rows if r.errors or r.warnings]
    return [
        {"row": r.number, "state": r.state, "errors": r.errors, "warnings": r.warnings}
        for r in problems[:REPORT_LIMIT]
    ]


def _annotated(run: ImportRun, rows: list[Row], sheet: sheets.Sheet) -> bytes:
    with run.file.open("rb") as handle:
        content = handle.read()
    index = {h: i for i, h in enumerate(sheet.headers) if h}
    annotated = {
        r.number: (
            r.state,
            {index.get(h): m for h, m in r.errors.items()},
            r.warnings,
        )
        for r in rows
    }
    labels = {
        "state": _("SMS check"),
        "errors": _("Errors and warnings"),
        "valid": _("would be created"),
        "refused": _("refused"),
        "known": _("already imported"),
    }
    return sheets.annotated_copy(
        content, sheet=sheet.name, header_row=sheet.header_row, rows=annotated, labels=labels
    )


def run_process(
    *, run_id: int, dry_run: bool, echo: Callable[[str], None] | None = None
) -> ImportRun:
    """Check (``dry_run``) or import ``run``; a failure is recorded on the
    run (status failed, the error) rather than raised: the page says so."""
    run = ImportRun.objects.select_related("requested_by").get(pk=run_id)
    actor = run.requested_by
    try:
        if not dry_run:
            require(actor, PERMISSION)
        _progress(run, 1, status=ImportRun.Status.CHECKING)
        share = 50 if not dry_run else 85

        def on_progress(done, total):
            _progress(run, int(done * share / total))
            if echo:
                echo(_("checked %(done)s of %(total)s rows") % {"done": done, "total": total})

        rows, sheet = check_rows(actor=actor, run=run, on_progress=on_progress)
        counts = {
            "rows_total": len(rows),
            "rows_valid": sum(r.state == "valid" for r in rows),
            "rows_refused": sum(r.state == "refused" for r in rows),
            "rows_known": sum(r.state == "known" for r in rows),
        }
        report = _report(rows)
        if dry_run:
            _progress(run, share, **counts, report=report)
            content = _annotated(run, rows, sheet)
            run.report_file.save(f"checked-{run.file_name}", ContentFile(content), save=False)
            _progress(
                run,
                100,
                report_file=run.report_file.name,
                status=ImportRun.Status.CHECKED,
                checked_at=timezone.now(),
            )
            return run
        if counts["rows_refused"] and not run.valid_only:
            _progress(
                run,
                100,
                **counts,
                report=report,
                status=ImportRun.Status.REFUSED,
                finished_at=timezone.now(),
            )
            return run
        _progress(run, share, **counts, report=report, status=ImportRun.Status.IMPORTING)
        created = _import_rows(run, [r for r in rows if r.state == "valid"], sheet, echo=echo)
        _progress(
            run,
            100,
            rows_created=created,
            status=ImportRun.Status.DONE,
            finished_at=timezone.now(),
        )
    except (ValidationError, PermissionDenied, sheets.SheetError) as exc:
        message = "; ".join(getattr(exc, "messages", None) or [str(exc)])
        _progress(run, run.progress, status=ImportRun.Status.FAILED, error=message[:2000])
    except Exception as exc:
        logger.exception("register import %s failed", run.pk)
        _progress(run, run.progress, status=ImportRun.Status.FAILED, error=str(exc)[:2000])
    return run


def _import_rows(run: ImportRun, rows: list[Row], sheet, *, echo=None) -> int:
    """Write the valid rows in chunks, one transaction each; returns the
    number of items created (already counted on the run as they commit)."""
    actor = run.requested_by
    ctx = run._context
    created = 0
    total = max(1, len(rows))
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        with transaction.atomic():
            registrations, payloads = [], []
            for row in chunk:
                registration = row.registration
                if row.photo_names:
                    uploads = [ctx.photo(name) for name in row.photo_names]
                    checked, messages = stock_services.check_photos(uploads)
                    if messages:
                        raise ValidationError({"photos": messages})
                    registration.photos = checked
                registrations.append(registration)
                payloads.append(
                    {
                        "source": {
                            "import": run.pk,
                            "file": run.file_name,
                            "sha256": run.sha256,
                            "sheet": sheet.name,
                            "row": row.number,
                        },
                        "row": row.values,
                    }
                )
            items = stock_services.items_register_many(
                actor=actor, registrations=registrations, payloads=payloads
            )
            copy_create(
                [
                    ImportedRow(
                        run=run,
                        item=item,
                        row_key=row.key,
                        sha256=run.sha256,
                        sheet=sheet.name,
                        row_number=row.number,
                        values=row.values,
                    )
                    for item, row in zip(items, chunk, strict=True)
                ]
            )
            for item, row in zip(items, chunk, strict=True):
                if row.archive:
                    stock_services.item_archive(
                        actor=actor,
                        item=item,
                        reason=row.archive.get("reason") or "",
                        archived_on=row.archive.get("archived_on"),
                        authority_reference=str(row.archive.get("authority_reference") or ""),
                        destruction_method=str(row.archive.get("destruction_method") or ""),
                        witnesses=str(row.archive.get("witnesses") or ""),
                        incident_reference=str(row.archive.get("incident_reference") or ""),
                        notes=_("Archived in the register imported from %(file)s, row %(row)s.")
                        % {"file": run.file_name, "row": row.number},
                        permission=PERMISSION,
                    )
                registration = row.registration
                registration.photos = []
            created += len(items)
            ImportRun.objects.filter(pk=run.pk).update(rows_created=created)
        _progress(run, 50 + int(50 * (start + len(chunk)) / total))
        if echo:
            echo(_("imported %(done)s of %(total)s rows") % {"done": created, "total": len(rows)})
    return created


# --- The template and the export ----------------------------------------------------


def _titles() -> dict:
    return {
        "register": _("Register")[:31],
        "lists": _("Lists")[:31],
        "explanations": _("Columns")[:31],
        "explanation_headers": [_("Column"), _("Required"), _("What to write"), _("Choices")],
    }


def _choice_label(column: Column, value) -> str:
    for stored, label in column.choices:
        if stored == value:
            return label
    return value


def template_build(*, actor, origin: Origin | None = None, record: bool = True) -> bytes:
    """The country's import template in the user's language: one column per
    field (built-in and custom, units in the header), drop-down lists for
    the choices, a sheet explaining each column, and example rows."""
    require(actor, PERMISSION)
    columns = country_columns()
    headers = [c.header for c in columns]
    lists = {i: [label for _v, label in c.choices] for i, c in enumerate(columns) if c.choices}
    for i, c in enumerate(columns):
        if c.kind == BOOLEAN:
            lists[i] = [_("yes"), _("no")]
    explanations = [
        (
            c.header,
            _("yes") if c.required else "",
            c.help,
            ", ".join(label for _v, label in c.choices[:50]),
        )
        for c in columns
    ]
    content = sheets.write_workbook(
        headers=headers,
        rows=_example_rows(columns),
        explanations=explanations,
        lists=lists,
        titles=_titles(),
    )
    if record:
        event_record(
            user=actor,
            action=AccessAction.IMPORT_TEMPLATE,
            origin=origin,
            details={"columns": len(columns)},
        )
    return content


def _example_rows(columns: list[Column]) -> list[list]:
    by_key = {c.key: c for c in columns}
    types = list(ItemType.objects.filter(enabled=True).select_related("category"))
    sites = list(Site.objects.filter(active=True)[:2])
    if not types or not sites:
        return []
    today = timezone.localdate()
    rows = []
    examples = [
        {
            "weight_kg": "12,4",
            "received_on": datetime.date(2015, 3, 14),
            "pieces": 1,
            "source": "seizure",
            "notes": _("Example row: replace or delete it."),
        },
        {
            "weight_kg": "3.25",
            "received_on": today.replace(day=1),
            "pieces": 1,
            "source": "natural_mortality",
            "notes": _("Example row: replace or delete it."),
        },
    ]
    for number, example in enumerate(examples):
        item_type = types[number % len(types)]
        values = {
            "item_type": item_type.label(),
            "site": sites[number % len(sites)].name,
            **example,
        }
        if item_type.is_lot:
            values["pieces"], values["bags"] = 40, 2
        row = []
        for column in columns:
            value = values.get(column.key)
            if column.kind == CHOICE and column.key not in ("item_type", "site") and value:
                value = _choice_label(by_key[column.key], value)
            row.append(value)
        rows.append(row)
    return rows


def register_export(*, actor, origin: Origin | None = None, record: bool = True) -> bytes:
    """The whole register of the actor's stores in the template's layout
    (items, marks, custom values, state and store), plus each item's SMS
    number and status: what another SMS imports back."""
    require(actor, PERMISSION)
    columns = country_columns()
    headers = [_("SMS number"), _("Status"), *[c.header for c in columns]]
    site_ids = set(visible_sites(actor).values_list("pk", flat=True))
    items = (
        StockItem.objects.filter(site_id__in=site_ids)
        .select_related("item_type", "site", "archive_record")
        .order_by("sms_number")
    )
    status_labels = dict(StockItem.Status.choices)

    def rows():
        for item in items.iterator(chunk_size=2000):
            record_ = getattr(item, "archive_record", None) if item.is_archived else None
            row = [item.sms_number, str(status_labels.get(item.status, item.status))]
            for column in columns:
                row.append(_export_value(item, record_, column))
            yield row

    content = sheets.write_workbook(headers=headers, rows=rows(), titles=_titles())
    if record:
        event_record(
            user=actor,
            action=AccessAction.REGISTER_EXPORT,
            origin=origin,
            details={"sites": len(site_ids)},
        )
    return content


def _export_value(item: StockItem, record, column: Column):
    key = column.key
    if key == "item_type":
        return item.item_type.label()
    if key == "site":
        return item.site.name
    if key == PHOTOS:
        return None
    if key.startswith(CUSTOM_PREFIX):
        value = (item.custom_values or {}).get(key[len(CUSTOM_PREFIX) :])
        if isinstance(value, list):
            return "; ".join(_choice_label(column, v) for v in value)
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        return _choice_label(column, value) if column.kind == CHOICE else value
    if key in ARCHIVE_FIELDS:
        if record is None:
            return None
        value = getattr(record, ARCHIVE_NAMES.get(key, key))
        return _choice_label(column, value) if column.kind == CHOICE else (value or None)
    value = getattr(item, key)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if column.kind == CHOICE:
        return _choice_label(column, value) if value else None
    return value if value != "" else None
