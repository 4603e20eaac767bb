"""Applying a stored ODK submission to the register (country schema).

A new Register item submission registers its item through
stock.services.item_register (the web form's validation). An edit (made by a
Central web user: Collect can't edit a sent form) asks for a correction of
that item through stock's correction path, like the web correction form:
where the country wants corrections approved, it waits for an administrator.
The correction is recorded under the store manager whose app user sent the
submission (SMS's permission and store scope are theirs; a Central web user
is no SMS user) with a reason naming the Central user and account who edited
it, kept in the item's history and the waiting correction. A stock-take check goes to the site's open custody
stock-take (custody.services.stocktake_check). Whatever the register or the
stock-take refuses goes to the review queue with the reason.
"""

import uuid

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import raise_errors
from custody import services as custody_services
from custody.models import StockTake, StockTakeLine
from stock import services as stock_services
from stock.models import StockItem
from stock.scope import can_see_site

from .. import xlsforms
from ..models import ItemEntity, StockCheck, Submission, SubmissionAttachment
from .run import Run

# The reason of a correction made by an edit in Central, in the country's
# language (the run translates); with the editor unknown, the short one.
EDIT_REASON = gettext_noop("Edited in ODK Central")
EDIT_REASON_BY = gettext_noop("Edited in ODK Central by %(name)s (Central account %(account)s)")


def edit_reason(submission: Submission) -> str:
    editor = submission.edited_by or {}
    if not editor.get("id") and not editor.get("name"):
        return _(EDIT_REASON)
    name = editor.get("name") or "?"
    return _(EDIT_REASON_BY) % {"name": name, "account": editor.get("id") or "?"}


YES = {"yes", "true", "1"}


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


def needs_review(submission: Submission, exc: Exception) -> None:
    submission.status = Submission.Status.NEEDS_REVIEW
    submission.errors = _errors_of(exc)
    submission.review_wanted = "hasIssues"


def process(*, submission: Submission, run: Run | None = None) -> Submission:
    """Apply one stored submission to the register, or put it in the review queue."""
    run = run or Run()
    try:
        with transaction.atomic():
            locked = Submission.objects.select_for_update().get(pk=submission.pk)
            apply_submission(locked, run)
            locked.save()
            after_insert(locked)
        run.report.processed += 1
        return locked
    except (ValidationError, PermissionDenied, Http404) as exc:
        failure = exc
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        needs_review(locked, failure)
        locked.save()
    run.report.needs_review += 1
    return locked


def apply_submission(submission: Submission, run: Run) -> None:
    """Make the submission's change (inside the caller's transaction); raises
    what the register refuses. ``submission`` may not be saved yet; what
    needs its id is done by after_insert."""
    if submission.xml_form_id == xlsforms.STOCKTAKE_FORM_ID:
        _apply_stocktake(submission, run)
    else:
        _apply_register(submission, run)
    _processed(submission)


def after_insert(submission: Submission) -> None:
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
    raise_errors(errors)
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
    stock_services.correction_submit(
        actor=actor,
        item=item,
        changes=changes,
        reason=edit_reason(submission),
        # An edit in Central is a correction asked in the store manager's
        # name, as on the web form: where the country wants corrections
        # approved it waits for an administrator (the submission is
        # processed: its request is made; the item changes once approved).
        approval=stock_services.Approval.COUNTRY_RULE,
    )
    attach_late_photos(submission, run=run, actor=actor)


def attach_late_photos(submission: Submission, *, run: Run, actor=None) -> None:
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
    if site is not None and not can_see_site(actor, site):
        errors["site"] = [_("This person may not check items at this store.")]
    raise_errors(errors)
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
