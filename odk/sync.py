"""Pulling submissions from ODK Central into the register (country schema).

One pass per form: ask the OData feed for every submission updated since the
stored watermark (``__system/updatedAt ge W``), page by page with ``$top``
and the rebased ``@odata.nextLink``. Central lists newest first and refuses
``$orderby`` with ``$skiptoken``, so a page boundary is not a point in time:
the watermark moves only when every page of the pass is stored, to the newest
``updatedAt`` seen. A pass that breaks off (Central down, a timeout, a 500, a
killed worker) is repeated from the old watermark; rows already stored are
recognised by ``__id`` and their ``meta/instanceID`` and skipped, so nothing
is lost and nothing is registered twice.

Each submission is applied in one transaction of its own: a new one registers
its item through stock.services.item_register (the web form's validation) and
is stored in the same transaction, so the submission row exists if and only
if its item does (the unique ``__id`` refuses a second row). An edit corrects
that item through item_correct. A stock-take check goes to the site's open
custody stock-take (custody.services.stocktake_check). Whatever the register
or the stock-take refuses is stored with the reason in the review queue.
Attachments are downloaded byte for byte with their SHA-256 (a submission
with attachments is stored first, then its files, then it is applied);
submissions whose attachments were missing are re-checked on every run, since
a late upload does not change updatedAt. Review states are written back to
Central after each page, a few requests at a time.

Speed (DESIGN.md: at least 100 submissions/s, photos aside, bench/odk_sync.py):
a run reads what doesn't change during it once (sites, item types, custom
field definitions, the app user -> user map, one user object per app user so
Django's permission cache is filled once), looks up a page's known
submissions in one query, never re-reads what it just wrote, and records the
review states pushed for a page in one UPDATE.
"""

import datetime
import hashlib
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from stock import services as stock_services
from stock.custom_fields import definitions_cached, definitions_for_type
from stock.models import CustomFieldDefinition, ItemType, Site, StockItem
from tenants.current import current_country

from . import central, xlsforms
from .models import (
    AppUser,
    CentralConnection,
    FormVersion,
    ItemEntity,
    StockCheck,
    Submission,
    SubmissionAttachment,
    SyncState,
)

log = logging.getLogger(__name__)
EDIT_REASON = "Edited in ODK Collect"
YES = {"yes", "true", "1"}
# Review PATCHes in flight at once: Central answers each in a few ms, and
# waiting for them one by one would cost more than registering the items.
REVIEW_WORKERS = 4
# Metadata kept in step with Central when a known submission comes back
# unedited (its review state changed, or it was re-listed).
METADATA_FIELDS = ("submitter_id", "central_updated_at", "edits", "attachments_expected")


@dataclass
class SyncReport:
    skipped: bool = False
    error: str = ""
    pages: int = 0
    rows: int = 0
    processed: int = 0
    needs_review: int = 0
    unchanged: int = 0
    attachments: int = 0
    reviews_pushed: int = 0
    forms: list[str] = field(default_factory=list)


class Run:
    """What a sync run reads once and uses for every submission.

    Sites, item types, custom field definitions and app users don't change
    while a run lasts (a few minutes at most); if an administrator changes
    one meanwhile, the next run sees it, as a web form opened before the
    change would. One user object per app user: Django caches permissions on
    the object, so they are read once per run, not once per submission.
    """

    def __init__(self, *, client=None, conn=None, report: SyncReport | None = None):
        self.client = client
        self.conn = conn
        self.report = report or SyncReport()
        self._sites: dict[str, Site | None] = {}
        self._types: dict[str, ItemType | None] = {}
        self._definitions: dict[int | None, list[CustomFieldDefinition]] = {}
        self._actors: dict[int, object] | None = None

    def site(self, code) -> Site | None:
        code = code or ""
        if code not in self._sites:
            self._sites[code] = Site.objects.filter(code=code).first()
        return self._sites[code]

    def item_type(self, code) -> ItemType | None:
        code = code or ""
        if code not in self._types:
            self._types[code] = (
                ItemType.objects.select_related("category").filter(code=code).first()
            )
        return self._types[code]

    def definitions(self, item_type: ItemType | None) -> list[CustomFieldDefinition]:
        key = item_type.pk if item_type else None
        if key not in self._definitions:
            self._definitions[key] = (
                definitions_for_type(item_type)
                if item_type
                else list(CustomFieldDefinition.objects.filter(active=True))
            )
        return self._definitions[key]

    def actor(self, submitter_id: int | None):
        if self._actors is None:
            self._actors = {
                app_user.central_id: app_user.user
                for app_user in AppUser.objects.select_related("user")
            }
        return self._actors.get(submitter_id)


# --- Lock ----------------------------------------------------------------------------


def _lock_key() -> str:
    return f"sms-odk-sync:{db_connection.schema_name}"


def _try_lock() -> bool:
    # Session-level: held across the run's many transactions, released by the
    # finally below or, if the worker dies, when its connection closes.
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [_lock_key()])
        return cursor.fetchone()[0]


def _unlock() -> None:
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [_lock_key()])


# --- The run ---------------------------------------------------------------------------


def _published_forms() -> list[str]:
    return sorted(
        set(
            FormVersion.objects.filter(published_at__isnull=False).values_list(
                "xml_form_id", flat=True
            )
        )
    )


def _country_language() -> str:
    country = current_country()
    return country.default_language if country else "en"


def sync_country(*, page_size: int | None = None, push_entities: bool = True) -> SyncReport:
    """One sync run of the current country; safe to call at any time, twice at once."""
    from django.conf import settings

    report = SyncReport()
    conn = CentralConnection.objects.first()
    if conn is None or conn.project_id is None:
        report.skipped = True
        report.error = _("ODK Central is not configured for this country.")
        return report
    if not _try_lock():
        report.skipped = True
        return report
    try:
        with translation.override(_country_language()), definitions_cached():
            try:
                run = Run(client=central.client_for(conn), conn=conn, report=report)
                for form_id in _published_forms():
                    _pull_form(run, form_id, page_size=page_size or settings.SMS_ODK_PAGE_SIZE)
                    report.forms.append(form_id)
                _recheck_attachments(run)
                _push_reviews(run)
                if push_entities:
                    from .services import entities_push

                    entities_push(client=run.client, connection=conn)
            except central.CENTRAL_ERRORS as exc:
                report.error = str(exc)[:2000]
                log.warning("ODK sync of %s stopped: %s", db_connection.schema_name, exc)
        CentralConnection.objects.filter(pk=conn.pk).update(
            last_sync_at=timezone.now(), last_sync_error=report.error
        )
    finally:
        _unlock()
    return report


def _odata_time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _pull_form(run: Run, form_id: str, *, page_size: int) -> None:
    state, _created = SyncState.objects.get_or_create(xml_form_id=form_id)
    params = {"$top": str(page_size)}
    if state.watermark:
        # A submission never edited nor reviewed has no updatedAt: ask for both.
        since = _odata_time(state.watermark)
        params["$filter"] = f"__system/submissionDate ge {since} or __system/updatedAt ge {since}"
    url = f"projects/{run.conn.project_id}/forms/{form_id}.svc/Submissions"
    newest = state.watermark
    while url:
        response = central.checked(run.client.get(url, params=params))
        params = None  # the nextLink carries the query
        body = response.json()
        rows = body.get("value", [])
        known = {
            s.central_id: s
            for s in Submission.objects.filter(central_id__in=[row["__id"] for row in rows])
        }
        touched: list[Submission] = []
        for row in rows:
            _ingest(run, form_id, row, known.get(row["__id"]), touched)
            system = row.get("__system") or {}
            updated = max(
                parse_datetime(value)
                for value in (system.get("updatedAt"), system.get("submissionDate"))
                if value
            )
            if newest is None or updated > newest:
                newest = updated
            run.report.rows += 1
        if touched:
            Submission.objects.bulk_update(touched, fields=METADATA_FIELDS)
        run.report.pages += 1
        # The page is stored: tell Central what became of it before the next one.
        _push_reviews(run, central_ids=[row["__id"] for row in rows])
        next_link = body.get("@odata.nextLink")
        url = central.rebase(next_link, run.conn) if next_link else None
    # Every page of the pass is stored: only now may the watermark move.
    if newest != state.watermark:
        state.watermark = newest
        state.save(update_fields=["watermark", "updated_at"])


# --- One submission -------------------------------------------------------------------------


def _metadata(submission: Submission, system: dict) -> None:
    submitter = system.get("submitterId")
    submission.submitter_id = int(submitter) if submitter not in (None, "") else None
    submission.submitted_at = parse_datetime(system.get("submissionDate") or "")
    submission.central_updated_at = parse_datetime(system.get("updatedAt") or "")
    submission.edits = system.get("edits") or 0
    submission.attachments_expected = system.get("attachmentsExpected") or 0


def _ingest(
    run: Run, form_id: str, row: dict, known: Submission | None, touched: list[Submission]
) -> None:
    system = row.get("__system") or {}
    instance_id = (row.get("meta") or {}).get("instanceID") or row["__id"]
    if known is None:
        _ingest_new(run, form_id, row, instance_id)
        return
    if known.instance_id == instance_id and not system.get("deletedAt"):
        # Seen before, not edited: at most its metadata changed (a review, a
        # re-listing). One UPDATE for the whole page, after the loop.
        before = [getattr(known, name) for name in METADATA_FIELDS]
        _metadata(known, system)
        if [getattr(known, name) for name in METADATA_FIELDS] != before:
            touched.append(known)
        if known.status != Submission.Status.PENDING:
            run.report.unchanged += 1
            return
        # Stored, then the run stopped before it was applied: finish it now.
        if known.attachments_expected:
            _download_attachments(run, known)
        process(submission=known, run=run)
        return
    _ingest_changed(run, form_id, row, instance_id)


def _ingest_new(run: Run, form_id: str, row: dict, instance_id: str) -> None:
    system = row.get("__system") or {}
    submission = Submission(
        central_id=row["__id"], xml_form_id=form_id, instance_id=instance_id, data=row
    )
    _metadata(submission, system)
    if system.get("deletedAt"):
        submission.status = Submission.Status.DELETED
        submission.save(force_insert=True)
        run.report.unchanged += 1
        return
    if submission.attachments_expected:
        # Files first (their rows point at the submission), then apply it.
        submission.save(force_insert=True)
        _download_attachments(run, submission)
        process(submission=submission, run=run)
        return
    # The common case: the item and the submission in one transaction. A
    # duplicate __id (impossible under the run's lock) would roll both back.
    try:
        with transaction.atomic():
            _apply(submission, run)
            submission.save(force_insert=True)
            _after_insert(submission)
        run.report.processed += 1
        return
    except (ValidationError, PermissionDenied, Http404) as exc:
        # Rolled back: nothing of what _apply set on the object holds.
        submission.pk, submission.item, submission.processed_instance_id = None, None, ""
        _needs_review(submission, exc)
        submission.save(force_insert=True)
    run.report.needs_review += 1


def _ingest_changed(run: Run, form_id: str, row: dict, instance_id: str) -> None:
    """An edited or deleted submission: the stored row is locked and updated."""
    system = row.get("__system") or {}
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(central_id=row["__id"])
        _metadata(submission, system)
        if system.get("deletedAt"):
            if submission.status != Submission.Status.PROCESSED:
                submission.status = Submission.Status.DELETED
            submission.save()
            run.report.unchanged += 1
            return
        submission.instance_id = instance_id
        submission.data = row
        if submission.status != Submission.Status.PENDING:
            # An edit in Collect: it is applied to what the first version made.
            submission.status = Submission.Status.PENDING
            submission.corrections = {}
        submission.save()
    if submission.attachments_expected:
        _download_attachments(run, submission)
    process(submission=submission, run=run)


def _download_attachments(run: Run, submission: Submission) -> None:
    client, conn = run.client, run.conn
    base = (
        f"projects/{conn.project_id}/forms/{submission.xml_form_id}"
        f"/submissions/{client.session.urlquote(submission.central_id)}/attachments"
    )
    listing = central.checked(client.get(base)).json()
    have = set(submission.attachments.values_list("name", flat=True))
    for entry in listing:
        name = entry["name"]
        if not entry.get("exists") or name in have:
            continue
        response = central.checked(
            client.get(f"{base}/{client.session.urlquote(name)}", stream=True)
        )
        content = b"".join(response.iter_content(chunk_size=65536))
        attachment = SubmissionAttachment(
            submission=submission,
            name=name,
            sha256=hashlib.sha256(content).hexdigest(),
            size_bytes=len(content),
        )
        attachment.file.save(name, ContentFile(content), save=False)
        attachment.save()
        have.add(name)
        run.report.attachments += 1
    present = len(have)
    Submission.objects.filter(pk=submission.pk).update(attachments_present=present)
    submission.attachments_present = present


def _recheck_attachments(run: Run) -> None:
    """Late attachments don't change updatedAt: look again at what was missing."""
    waiting = Submission.objects.filter(
        attachments_present__lt=F("attachments_expected"),
        status__in=[Submission.Status.PROCESSED, Submission.Status.NEEDS_REVIEW],
    )
    for submission in waiting:
        before = submission.attachments_present
        _download_attachments(run, submission)
        if submission.attachments_present == before:
            continue
        if submission.status == Submission.Status.NEEDS_REVIEW:
            # A missing photo may have been the problem: try again.
            process(submission=submission, run=run)
        else:
            _attach_late_photos(submission, run=run)


# --- Applying a stored submission --------------------------------------------------------------


def _values(submission: Submission) -> dict:
    return {**submission.data, **(submission.corrections or {})}


def _yes(value) -> bool:
    return str(value).strip().lower() in YES


def parse_register(values: dict, run: Run | None = None) -> tuple[dict, dict]:
    """(arguments for item_register, errors) from a Register item submission."""
    run = run or Run()
    errors: dict[str, list[str]] = {}
    site = run.site(values.get("site"))
    if site is None:
        errors["site"] = [
            _("There is no store with the code “%(code)s”.") % {"code": values.get("site")}
        ]
    item_type = run.item_type(values.get("item_type"))
    if item_type is None:
        errors["item_type"] = [
            _("There is no item type with the code “%(code)s”.") % {"code": values.get("item_type")}
        ]
    data = {}
    for name in stock_services.ITEM_FIELDS:
        value = values.get(name)
        if value is None or value == "":
            continue
        if name in xlsforms.YES_NO_FIELDS:
            value = _yes(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        data[name] = value
    custom = {}
    for definition in run.definitions(item_type):
        value = values.get(xlsforms.custom_question_name(definition.key))
        if value is None or value == "":
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        custom[definition.key] = value
    entry = values.get("mark_entry")
    mark = None
    if entry == "typed":
        mark = values.get("cites_mark")
    elif entry == "scanned":
        mark = values.get("cites_mark_scan")
    args = {
        "site": site,
        "item_type": item_type,
        "data": data,
        "custom_values": custom,
        "cites_mark": mark,
    }
    return args, errors


def _attachments_by_name(submission: Submission) -> dict[str, SubmissionAttachment]:
    if submission.pk is None or not submission.attachments_expected:
        return {}
    return {a.name: a for a in submission.attachments.all()}


def _photo_attachments(submission: Submission, values: dict) -> list[SubmissionAttachment]:
    names = [values.get(name) for name in xlsforms.PHOTO_FIELDS if values.get(name)]
    by_name = _attachments_by_name(submission)
    return [by_name[name] for name in names if name in by_name]


def _read(attachment: SubmissionAttachment) -> bytes:
    with attachment.file.open("rb") as handle:
        return handle.read()


def _errors_of(exc: Exception) -> dict:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return {key: [str(m) for m in messages] for key, messages in exc.message_dict.items()}
        return {NON_FIELD_ERRORS: [str(m) for m in exc.messages]}
    if isinstance(exc, Http404):
        return {NON_FIELD_ERRORS: [_("The item is not in a store this person may work in.")]}
    return {NON_FIELD_ERRORS: [str(exc) or _("This person is not allowed to do this.")]}


def _processed(submission: Submission) -> None:
    submission.status = Submission.Status.PROCESSED
    submission.processed_instance_id = submission.instance_id
    submission.errors = {}
    submission.review_wanted = "approved"


def _needs_review(submission: Submission, exc: Exception) -> None:
    submission.status = Submission.Status.NEEDS_REVIEW
    submission.errors = _errors_of(exc)
    submission.review_wanted = "hasIssues"


def process(*, submission: Submission, run: Run | None = None) -> Submission:
    """Apply one stored submission to the register, or put it in the review queue."""
    run = run or Run()
    try:
        with transaction.atomic():
            locked = Submission.objects.select_for_update().get(pk=submission.pk)
            _apply(locked, run)
            locked.save()
            _after_insert(locked)
        run.report.processed += 1
        return locked
    except (ValidationError, PermissionDenied, Http404) as exc:
        failure = exc
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        _needs_review(locked, failure)
        locked.save()
    run.report.needs_review += 1
    return locked


def _apply(submission: Submission, run: Run) -> None:
    """Make the submission's change (inside the caller's transaction); raises
    what the register refuses. ``submission`` may not be saved yet; what
    needs its id is done by _after_insert."""
    if submission.xml_form_id == xlsforms.STOCKTAKE_FORM_ID:
        _apply_stocktake(submission, run)
    else:
        _apply_register(submission, run)
    _processed(submission)


def _after_insert(submission: Submission) -> None:
    for step in getattr(submission, "_sms_after_insert", ()):
        step(submission)
    submission._sms_after_insert = []


def _later(submission: Submission, step) -> None:
    """Run ``step(submission)`` once the submission row exists (same transaction)."""
    submission._sms_after_insert = [*getattr(submission, "_sms_after_insert", ()), step]


def _require_actor(submission: Submission, run: Run):
    actor = run.actor(submission.submitter_id)
    if actor is None or not actor.is_active:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: [
                    _(
                        "SMS does not know who sent this: the Central app user is not one "
                        "made by SMS for a store manager."
                    )
                ]
            }
        )
    return actor


def _apply_register(submission: Submission, run: Run) -> None:
    actor = _require_actor(submission, run)
    values = _values(submission)
    args, errors = parse_register(values, run)
    if errors:
        raise ValidationError(errors)
    attachments = _photo_attachments(submission, values)
    if submission.item_id is None:
        item = stock_services.item_register(
            actor=actor, photos=[_read(a) for a in attachments], **args
        )
        if attachments:
            photos = {photo.sha256: photo for photo in item.photos.all()}
            for attachment in attachments:
                attachment.photo = photos.get(attachment.sha256)
                attachment.save(update_fields=["photo"])
        submission.item = item
        return
    # An edit: correct the item it registered (never a second item).
    item = StockItem.objects.get(pk=submission.item_id)
    changes = {name: args["data"].get(name) for name in stock_services.ITEM_FIELDS}
    changes["custom_values"] = {
        d.key: args["custom_values"].get(d.key) for d in run.definitions(args["item_type"])
    }
    if args["item_type"].pk != item.item_type_id:
        changes["item_type"] = args["item_type"]
    if args["site"].pk != item.site_id:
        changes["site"] = args["site"]
    if args["cites_mark"]:
        changes["cites_mark"] = args["cites_mark"]
    stock_services.item_correct(actor=actor, item=item, changes=changes, reason=EDIT_REASON)
    _attach_late_photos(submission, run=run, actor=actor)


def _attach_late_photos(submission: Submission, *, run: Run, actor=None) -> None:
    """Photos that arrived after the item was registered (or checked) join it."""
    item_id = submission.item_id
    caption = ""
    if item_id is None:
        check = StockCheck.objects.filter(submission=submission).select_related("stocktake").first()
        if check is None:
            return
        item_id = check.item_id
        if check.stocktake is not None:
            caption = _("Stock-take %(reference)s") % {"reference": check.stocktake.reference}
    actor = actor or run.actor(submission.submitter_id)
    if actor is None:
        return
    values = _values(submission)
    names = [values.get(n) for n in (*xlsforms.PHOTO_FIELDS, "photo") if values.get(n)]
    by_name = _attachments_by_name(submission)
    item = StockItem.objects.get(pk=item_id)
    for name in names:
        attachment = by_name.get(name)
        if attachment is None or attachment.photo_id:
            continue
        with transaction.atomic():
            photo = stock_services.photo_add(
                actor=actor, item=item, upload=_read(attachment), caption=caption
            )
            attachment.photo = photo
            attachment.save(update_fields=["photo"])


# --- Stock-take checks ------------------------------------------------------------------------


def _apply_stocktake(submission: Submission, run: Run) -> None:
    """Record the check in the site's open custody stock-take.

    An edit goes to the stock-take the first version went to. With no
    stock-take open for the store, the check waits in the review queue with
    that reason: whether a count made outside a stock-take still holds is for
    an administrator to judge (process it again once one is open, or reject it).
    """
    from custody import services as custody_services
    from custody.models import StockTake, StockTakeLine

    actor = _require_actor(submission, run)
    values = _values(submission)
    errors = {}
    site = run.site(values.get("site"))
    if site is None:
        errors["site"] = [
            _("There is no store with the code “%(code)s”.") % {"code": values.get("site")}
        ]
    link = ItemEntity.objects.filter(entity_uuid=_uuid_or_none(values.get("item"))).first()
    item = StockItem.objects.filter(pk=link.item_id).first() if link else None
    if item is None:
        errors["item"] = [_("The item chosen is not in the register.")]
    elif site is not None and item.site_id != site.pk:
        errors["item"] = [_("This item is registered at another store.")]
    from stock.scope import can_see_site

    if site is not None and not can_see_site(actor, site):
        errors["site"] = [_("This person may not check items at this store.")]
    if errors:
        raise ValidationError(errors)
    previous = None
    if submission.pk is not None:
        previous = StockCheck.objects.filter(submission=submission).first()
    if previous is not None and previous.stocktake_id is not None:
        stocktake = previous.stocktake
    else:
        stocktake = StockTake.objects.filter(site=site, status=StockTake.Status.OPEN).first()
    if stocktake is None:
        raise ValidationError({NON_FIELD_ERRORS: [_("No stock-take is open for this store.")]})
    found = _yes(values.get("found"))
    damaged = found and _yes(values.get("damaged"))
    weight = values.get("weight_kg") if found else None
    weight = str(weight) if weight not in (None, "") else None
    photo = None
    if found and values.get("photo"):
        attachment = _attachments_by_name(submission).get(values.get("photo"))
        photo = attachment
    R = StockTakeLine.Result
    result = R.MISSING if not found else (R.DAMAGED if damaged else R.FOUND)
    line = custody_services.stocktake_check(
        actor=actor,
        stocktake=stocktake,
        item=item,
        result=result,
        weight_kg=weight,
        note=values.get("notes") or "",
        photo=_read(photo) if photo and not photo.photo_id else None,
    )
    if photo is not None and line.photo_id and not photo.photo_id:
        photo.photo_id = line.photo_id
        photo.save(update_fields=["photo"])
    check = previous or StockCheck(item=item, site=site)
    check.item, check.site = item, site
    check.found, check.damaged = found, damaged
    check.weight_kg = weight
    check.notes = values.get("notes") or ""
    check.checked_by = actor
    check.stocktake, check.stocktake_line = stocktake, line

    def save_check(saved: Submission) -> None:
        check.submission = saved
        check.save()

    _later(submission, save_check)


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- Review states back to Central ----------------------------------------------------------


def _review_comment(submission: Submission) -> str | None:
    if submission.review_wanted == "rejected":
        return submission.rejection_reason or None
    if submission.review_wanted == "hasIssues":
        lines = []
        for key, messages in (submission.errors or {}).items():
            prefix = "" if key == NON_FIELD_ERRORS else f"{key}: "
            lines.extend(prefix + message for message in messages)
        return "\n".join(lines) or None
    return None


def _push_reviews(run: Run, *, central_ids: list[str] | None = None) -> None:
    """Write wanted review states to Central (those of ``central_ids``, or all
    still waiting), a few at a time; record the ones Central took in one
    UPDATE per state. A failed request stops the run after the others are
    recorded; what is left is pushed by the next run."""
    pending = Submission.objects.exclude(review_wanted="").exclude(review_wanted=F("review_pushed"))
    if central_ids is not None:
        pending = pending.filter(central_id__in=central_ids)
    pending = list(
        pending.only(
            "pk", "central_id", "xml_form_id", "review_wanted", "errors", "rejection_reason"
        )
    )
    if not pending:
        return
    client, project_id = run.client, run.conn.project_id

    def push(submission: Submission) -> Submission:
        client.submissions.review(
            instance_id=submission.central_id,
            review_state=submission.review_wanted,
            form_id=submission.xml_form_id,
            project_id=project_id,
            comment=_review_comment(submission),
        )
        return submission

    done: dict[str, list[int]] = {}
    failure = None
    with ThreadPoolExecutor(max_workers=REVIEW_WORKERS) as pool:
        futures = [pool.submit(push, submission) for submission in pending]
        for future in futures:
            try:
                submission = future.result()
            except central.CENTRAL_ERRORS as exc:
                failure = failure or exc
                continue
            done.setdefault(submission.review_wanted, []).append(submission.pk)
    for state, pks in done.items():
        # Only if nobody asked for another state meanwhile (a rejection).
        Submission.objects.filter(pk__in=pks, review_wanted=state).update(review_pushed=state)
        run.report.reviews_pushed += len(pks)
    if failure is not None:
        raise failure
