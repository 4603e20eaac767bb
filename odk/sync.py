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

Each submission is stored and processed in its own transaction: it registers
one item through stock.services.item_register (the web form's validation),
an edit corrects that item through item_correct, and anything the register
refuses goes to the review queue with the reason. Attachments are downloaded
byte for byte with their SHA-256; submissions whose attachments were missing
are re-checked on every run, since a late upload does not change updatedAt.
Review states are written back to Central at the end of the run.
"""

import datetime
import hashlib
import logging
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connection as db_connection
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from stock import services as stock_services
from stock.custom_fields import definitions_for_type
from stock.models import CustomFieldDefinition, ItemType, Site, StockItem

from . import central, xlsforms
from .models import (
    AppUser,
    CentralConnection,
    FormVersion,
    StockCheck,
    Submission,
    SubmissionAttachment,
    SyncState,
)

log = logging.getLogger(__name__)
EDIT_REASON = "Edited in ODK Collect"
YES = {"yes", "true", "1"}


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
    # Per run: the same user object for every submission of one app user, so
    # Django's per-object permission cache is filled once, not per submission.
    actors: dict = field(default_factory=dict, repr=False)


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
    from tenants.models import Country

    country = Country.objects.filter(schema_name=db_connection.schema_name).first()
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
        with translation.override(_country_language()):
            client = central.client_for(conn)
            try:
                for form_id in _published_forms():
                    _pull_form(
                        client,
                        conn,
                        form_id,
                        report,
                        page_size=page_size or settings.SMS_ODK_PAGE_SIZE,
                    )
                    report.forms.append(form_id)
                _recheck_attachments(client, conn, report)
                _push_reviews(client, conn, report)
                if push_entities:
                    from .services import entities_push

                    entities_push(client=client, connection=conn)
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


def _pull_form(client, conn, form_id: str, report: SyncReport, *, page_size: int) -> None:
    state, _created = SyncState.objects.get_or_create(xml_form_id=form_id)
    params = {"$top": str(page_size)}
    if state.watermark:
        # A submission never edited nor reviewed has no updatedAt: ask for both.
        since = _odata_time(state.watermark)
        params["$filter"] = f"__system/submissionDate ge {since} or __system/updatedAt ge {since}"
    url = f"projects/{conn.project_id}/forms/{form_id}.svc/Submissions"
    newest = state.watermark
    while url:
        response = central.checked(client.get(url, params=params))
        params = None  # the nextLink carries the query
        body = response.json()
        for row in body.get("value", []):
            _ingest(client, conn, form_id, row, report)
            system = row.get("__system") or {}
            updated = max(
                parse_datetime(value)
                for value in (system.get("updatedAt"), system.get("submissionDate"))
                if value
            )
            if newest is None or updated > newest:
                newest = updated
            report.rows += 1
        report.pages += 1
        next_link = body.get("@odata.nextLink")
        url = central.rebase(next_link, conn) if next_link else None
    # Every page of the pass is stored: only now may the watermark move.
    if newest != state.watermark:
        state.watermark = newest
        state.save(update_fields=["watermark", "updated_at"])


# --- One submission -------------------------------------------------------------------------


def _ingest(client, conn, form_id: str, row: dict, report: SyncReport) -> None:
    system = row.get("__system") or {}
    central_id = row["__id"]
    instance_id = (row.get("meta") or {}).get("instanceID") or central_id
    with transaction.atomic():
        submission, created = Submission.objects.select_for_update().get_or_create(
            central_id=central_id,
            defaults={"xml_form_id": form_id, "instance_id": instance_id, "data": row},
        )
        new_version = created or submission.instance_id != instance_id
        submission.instance_id = instance_id
        submitter = system.get("submitterId")
        submission.submitter_id = int(submitter) if submitter not in (None, "") else None
        submission.submitted_at = parse_datetime(system.get("submissionDate") or "")
        submission.central_updated_at = parse_datetime(system.get("updatedAt") or "")
        submission.edits = system.get("edits") or 0
        submission.attachments_expected = system.get("attachmentsExpected") or 0
        if system.get("deletedAt"):
            if submission.status != Submission.Status.PROCESSED:
                submission.status = Submission.Status.DELETED
            submission.save()
            report.unchanged += 1
            return
        if new_version:
            submission.data = row
            if not created and submission.status != Submission.Status.PENDING:
                # An edit in Collect: it is applied to what the first version made.
                submission.status = Submission.Status.PENDING
                submission.corrections = {}
        submission.save()
    if submission.status != Submission.Status.PENDING:
        report.unchanged += 1
        return
    if submission.attachments_expected:
        _download_attachments(client, conn, submission, report)
    process(submission=submission, report=report)


def _download_attachments(client, conn, submission: Submission, report: SyncReport) -> None:
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
        report.attachments += 1
    present = submission.attachments.count()
    Submission.objects.filter(pk=submission.pk).update(attachments_present=present)
    submission.attachments_present = present


def _recheck_attachments(client, conn, report: SyncReport) -> None:
    """Late attachments don't change updatedAt: look again at what was missing."""
    waiting = Submission.objects.filter(
        attachments_present__lt=models_F("attachments_expected"),
        status__in=[Submission.Status.PROCESSED, Submission.Status.NEEDS_REVIEW],
    )
    for submission in waiting:
        before = submission.attachments_present
        _download_attachments(client, conn, submission, report)
        if submission.attachments_present == before:
            continue
        if submission.status == Submission.Status.NEEDS_REVIEW:
            # A missing photo may have been the problem: try again.
            process(submission=submission, report=report)
        else:
            _attach_late_photos(submission)


def models_F(name):
    from django.db.models import F

    return F(name)


# --- Turning values into a registration ------------------------------------------------


def _actor(submission: Submission, cache: dict | None = None):
    if cache is not None and submission.submitter_id in cache:
        return cache[submission.submitter_id]
    app_user = (
        AppUser.objects.select_related("user").filter(central_id=submission.submitter_id).first()
    )
    user = app_user.user if app_user else None
    if cache is not None:
        cache[submission.submitter_id] = user
    return user


def _values(submission: Submission) -> dict:
    return {**submission.data, **(submission.corrections or {})}


def _yes(value) -> bool:
    return str(value).strip().lower() in YES


def parse_register(values: dict) -> tuple[dict, dict]:
    """(arguments for item_register, errors) from a Register item submission."""
    errors: dict[str, list[str]] = {}
    site = Site.objects.filter(code=values.get("site") or "").first()
    if site is None:
        errors["site"] = [
            _("There is no store with the code “%(code)s”.") % {"code": values.get("site")}
        ]
    item_type = (
        ItemType.objects.select_related("category")
        .filter(code=values.get("item_type") or "")
        .first()
    )
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
    definitions = (
        definitions_for_type(item_type)
        if item_type
        else list(CustomFieldDefinition.objects.filter(active=True))
    )
    for definition in definitions:
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


def _photo_attachments(submission: Submission, values: dict) -> list[SubmissionAttachment]:
    names = [values.get(name) for name in xlsforms.PHOTO_FIELDS if values.get(name)]
    by_name = {a.name: a for a in submission.attachments.all()}
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


def process(*, submission: Submission, report: SyncReport | None = None) -> Submission:
    """Apply one stored submission to the register, or put it in the review queue."""
    try:
        with transaction.atomic():
            locked = Submission.objects.select_for_update().get(pk=submission.pk)
            cache = report.actors if report else None
            if locked.xml_form_id == xlsforms.STOCKTAKE_FORM_ID:
                _apply_stocktake(locked, cache)
            else:
                _apply_register(locked, cache)
            locked.status = Submission.Status.PROCESSED
            locked.processed_instance_id = locked.instance_id
            locked.errors = {}
            locked.review_wanted = "approved"
            locked.save()
        if report:
            report.processed += 1
        return locked
    except (ValidationError, PermissionDenied, Http404) as exc:
        errors = _errors_of(exc)
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        locked.status = Submission.Status.NEEDS_REVIEW
        locked.errors = errors
        locked.review_wanted = "hasIssues"
        locked.save()
    if report:
        report.needs_review += 1
    return locked


def _require_actor(submission: Submission, cache: dict | None = None):
    actor = _actor(submission, cache)
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


def _apply_register(submission: Submission, cache: dict | None = None) -> None:
    actor = _require_actor(submission, cache)
    values = _values(submission)
    args, errors = parse_register(values)
    if errors:
        raise ValidationError(errors)
    attachments = _photo_attachments(submission, values)
    if submission.item_id is None:
        item = stock_services.item_register(
            actor=actor, photos=[_read(a) for a in attachments], **args
        )
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
        d.key: args["custom_values"].get(d.key) for d in definitions_for_type(args["item_type"])
    }
    if args["item_type"].pk != item.item_type_id:
        changes["item_type"] = args["item_type"]
    if args["site"].pk != item.site_id:
        changes["site"] = args["site"]
    if args["cites_mark"]:
        changes["cites_mark"] = args["cites_mark"]
    stock_services.item_correct(actor=actor, item=item, changes=changes, reason=EDIT_REASON)
    _attach_late_photos(submission, actor=actor)


def _attach_late_photos(submission: Submission, actor=None) -> None:
    """Photos that arrived after the item was registered join it."""
    if submission.item_id is None:
        return
    actor = actor or _actor(submission)
    if actor is None:
        return
    values = _values(submission)
    item = StockItem.objects.get(pk=submission.item_id)
    for attachment in _photo_attachments(submission, values):
        if attachment.photo_id:
            continue
        with transaction.atomic():
            photo = stock_services.photo_add(actor=actor, item=item, upload=_read(attachment))
            attachment.photo = photo
            attachment.save(update_fields=["photo"])


def _apply_stocktake(submission: Submission, cache: dict | None = None) -> None:
    actor = _require_actor(submission, cache)
    values = _values(submission)
    errors = {}
    site = Site.objects.filter(code=values.get("site") or "").first()
    if site is None:
        errors["site"] = [
            _("There is no store with the code “%(code)s”.") % {"code": values.get("site")}
        ]
    from .models import ItemEntity

    link = ItemEntity.objects.filter(entity_uuid=_uuid_or_none(values.get("item"))).first()
    item = StockItem.objects.filter(pk=link.item_id).first() if link else None
    if item is None:
        errors["item"] = [_("The item chosen is not in the register.")]
    elif site is not None and item.site_id != site.pk:
        errors["item"] = [_("This item is registered at another store.")]
    from accounts.scope import can_see_site

    if site is not None and not can_see_site(actor, site):
        errors["site"] = [_("This person may not check items at this store.")]
    found = _yes(values.get("found"))
    weight = values.get("weight_kg")
    if errors:
        raise ValidationError(errors)
    StockCheck.objects.update_or_create(
        submission=submission,
        defaults={
            "item": item,
            "site": site,
            "found": found,
            "damaged": found and _yes(values.get("damaged")),
            "weight_kg": str(weight) if weight not in (None, "") else None,
            "notes": values.get("notes") or "",
            "checked_by": actor,
        },
    )


def _uuid_or_none(value):
    import uuid

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


def _push_reviews(client, conn, report: SyncReport) -> None:
    pending = Submission.objects.exclude(review_wanted="").exclude(
        review_wanted=models_F("review_pushed")
    )
    for submission in pending:
        client.submissions.review(
            instance_id=submission.central_id,
            review_state=submission.review_wanted,
            form_id=submission.xml_form_id,
            project_id=conn.project_id,
            comment=_review_comment(submission),
        )
        Submission.objects.filter(pk=submission.pk).update(review_pushed=submission.review_wanted)
        report.reviews_pushed += 1
