"""Stock register writes (country schema): registration, corrections, photos,
archive, custom field definitions, and the running totals behind dashboards.

Every function is atomic: bad input raises ValidationError with a dict
{field: [messages]} and nothing is written. Error keys are the item's field
names (``weight_kg``, ``received_on`` ...), ``custom_<key>`` for custom values,
``photos`` for photos, ``cites_mark``, ``site``, ``reason``, and
``__all__`` (NON_FIELD_ERRORS) for the item as a whole (e.g. archived).

Who may do what: registering needs ``stock.register_item`` and the site in the
actor's scope (else a ValidationError on ``site``); correcting, archiving and
adding photos need ``correct_item`` / ``archive_item`` / ``register_item`` or
``correct_item`` (else PermissionDenied) and the item's site in scope (else
Http404, as for any object outside the scope). The ODK sync calls these same
functions.

Contract additions: item_archive takes ``related_items`` (split/merged);
photo_add takes ``caption``; ``totals_adjust`` is public so custody (moves,
missing) keeps StockTotal exact the same way. Registration, corrections and
archiving append their custody ledger entry (custody.ledger) in the same
transaction.
"""

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.text import text_errors
from ledger import chain as ledger

from . import marks
from .custom_fields import validate_custom_values
from .field_rules import MEASUREMENTS
from .models import (
    ArchiveRecord,
    CustomFieldDefinition,
    FieldDefinitionChange,
    ItemChange,
    ItemPhoto,
    ItemType,
    Site,
    StockItem,
)
from .photos import PhotoRefused, check_photo
from .scope import can_see_site

# The fields a registration (or a correction) may set.
ITEM_FIELDS = (
    "weight_kg",
    "weight_is_final",
    "pieces",
    "bags",
    "length_outer_cm",
    "length_inner_cm",
    "lip_circumference_cm",
    "base_circumference_cm",
    "length_cm",
    "species",
    "side",
    "horn_position",
    "source",
    "legal_status",
    "court_hold",
    "case_reference",
    "exhibit_reference",
    "country_of_origin",
    "country_of_seizure",
    "acquired_on",
    "acquired_place",
    "received_on",
    "received_by",
    "dna_sample_id",
    "dna_lab",
    "dna_weight_removed_g",
    "notes",
)
# Corrections may also change these (validated the same way).
CORRECTABLE_EXTRA = ("item_type", "cites_mark", "custom_values")
# Not through corrections: moves go through custody, disposal through item_archive.
NOT_CORRECTABLE = {
    "site": gettext_lazy("An item changes site through a transfer, not a correction."),
    "status": gettext_lazy("The status changes through transfers, stock-takes or the archive."),
    "sms_number": gettext_lazy("The SMS number never changes."),
    "id": gettext_lazy("The identifier never changes."),
}
ISO2 = re.compile(r"^[A-Z]{2}$")
COUNTED = (StockItem.Status.IN_STOCK, StockItem.Status.IN_TRANSIT, StockItem.Status.MISSING)


# --- Running totals ---------------------------------------------------------------


@dataclass(frozen=True)
class TotalsKey:
    """What an item contributes to StockTotal."""

    site_id: int
    item_type_id: int
    status: str
    pieces: int
    weight_kg: Decimal

    @classmethod
    def of(cls, item: StockItem) -> "TotalsKey":
        return cls(item.site_id, item.item_type_id, item.status, item.pieces, item.weight_kg)


def totals_adjust(*, before: TotalsKey | None, after: TotalsKey | None) -> None:
    """Move one item's contribution from ``before`` to ``after`` (None = nothing).

    One UPSERT per side, incrementing in the database, so concurrent
    registrations at the same site never overwrite each other's counts.
    Must run in the transaction that changes the item.
    """
    if before == after:
        return
    for key, sign in ((before, -1), (after, 1)):
        if key is None:
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO stock_stocktotal"
                " (site_id, item_type_id, status, items, pieces, weight_kg)"
                " VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT ON CONSTRAINT stock_total_unique DO UPDATE SET"
                " items = stock_stocktotal.items + EXCLUDED.items,"
                " pieces = stock_stocktotal.pieces + EXCLUDED.pieces,"
                " weight_kg = stock_stocktotal.weight_kg + EXCLUDED.weight_kg",
                [
                    key.site_id,
                    key.item_type_id,
                    key.status,
                    sign,
                    sign * key.pieces,
                    sign * Decimal(key.weight_kg),
                ],
            )


# --- Validation ------------------------------------------------------------------------


def _field(name):
    return StockItem._meta.get_field(name)


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, ItemType):
        return value.code
    return value


def _clean_item_fields(values: dict, *, item_type: ItemType) -> tuple[dict, dict]:
    """Clean every item field of ``values`` (a full set); returns (clean, errors)."""
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    today = timezone.localdate()
    for name in ITEM_FIELDS:
        field = _field(name)
        raw = values.get(name)
        kind = field.get_internal_type()
        if isinstance(raw, str):
            raw = raw.strip()
            if kind == "DecimalField":
                # A decimal comma is what many users type.
                raw = raw.replace(",", ".")
        if raw is None or raw == "":
            if name == "received_on":
                raw = today
            elif name == "pieces":
                raw = None if item_type.is_lot else 1
            elif field.has_default():
                raw = field.get_default()
            elif kind in ("CharField", "TextField"):
                raw = ""
            else:
                raw = None
        if name in ("country_of_origin", "country_of_seizure") and raw:
            raw = str(raw).upper()
        try:
            clean[name] = field.clean(raw, None) if raw is not None else None
        except ValidationError as exc:
            errors[name] = list(exc.messages)
            continue
        if kind == "DecimalField" and clean[name] is not None:
            # "9" and "9.000" are the same weight: keep the stored scale so the
            # history shows what the database holds.
            clean[name] = clean[name].quantize(Decimal(1).scaleb(-field.decimal_places))
        if name == "weight_kg" and clean[name] is None:
            errors[name] = [_("Enter the weight in kilograms.")]
    weight = clean.get("weight_kg")
    if "weight_kg" not in errors and weight is not None and weight <= 0:
        errors["weight_kg"] = [_("The weight must be more than 0 kg.")]
    for name in (*MEASUREMENTS, "dna_weight_removed_g"):
        value = clean.get(name)
        if name not in errors and value is not None and value <= 0:
            errors[name] = [_("Enter a value greater than 0.")]
    pieces, bags = clean.get("pieces"), clean.get("bags")
    if item_type.is_lot:
        if "pieces" not in errors and not pieces:
            errors["pieces"] = [_("A lot needs its number of pieces (at least 1).")]
        if "bags" not in errors and not bags:
            errors["bags"] = [_("A lot needs its number of bags (at least 1).")]
    else:
        if "pieces" not in errors and pieces != 1:
            errors["pieces"] = [_("An individual piece counts as 1 piece.")]
        if "bags" not in errors and bags:
            errors["bags"] = [_("Bags are only counted for lots.")]
    for name in ("country_of_origin", "country_of_seizure"):
        value = clean.get(name)
        if name not in errors and value and not ISO2.match(value):
            errors[name] = [_("Use the two-letter ISO country code, e.g. KE.")]
    for name in ("acquired_on", "received_on"):
        value = clean.get(name)
        if name not in errors and value and value > today:
            errors[name] = [_("This date is in the future.")]
    acquired, received = clean.get("acquired_on"), clean.get("received_on")
    if "acquired_on" not in errors and acquired and received and acquired > received:
        errors["acquired_on"] = [_("The item cannot be acquired after it was received.")]
    return clean, errors


def _check_mark(mark: str, *, item_type: ItemType, exclude_pk=None) -> tuple[str, list[str]]:
    normalised = marks.normalise_mark(mark)
    message = marks.validate_mark(normalised, category=item_type.category)
    if message:
        return normalised, [message]
    taken = StockItem.objects.filter(cites_mark=normalised)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        return normalised, [
            _("The mark %(mark)s is already on item %(number)s.")
            % {"mark": normalised, "number": taken.values_list("sms_number", flat=True).first()}
        ]
    return normalised, []


def _longest(clean: dict):
    lengths = [clean.get(n) for n in ("length_outer_cm", "length_cm") if clean.get(n) is not None]
    return max(lengths) if lengths else None


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _require(actor, perm: str) -> None:
    if not actor.has_perm(f"stock.{perm}"):
        raise PermissionDenied(_("You are not allowed to do this."))


def _locked_item_in_scope(*, actor, item: StockItem) -> StockItem:
    locked = (
        StockItem.objects.select_for_update().select_related("item_type__category").get(pk=item.pk)
    )
    if not can_see_site(actor, locked.site):
        raise Http404
    return locked


def _check_photos(photos: Iterable) -> tuple[list, list[str]]:
    checked, messages = [], []
    for number, upload in enumerate(photos, start=1):
        try:
            checked.append(check_photo(upload))
        except PhotoRefused as exc:
            name = getattr(upload, "name", "") or _("photo %(number)s") % {"number": number}
            messages.append(f"{name}: {exc}")
    return checked, messages


def _store_photo(*, actor, item: StockItem, checked, caption: str = "") -> ItemPhoto:
    photo = ItemPhoto(
        item=item,
        sha256=checked.sha256,
        size_bytes=checked.size_bytes,
        content_type=checked.content_type,
        width=checked.width,
        height=checked.height,
        caption=caption,
        uploaded_by=actor,
    )
    # Files first (their names need the item id), then one INSERT. A rollback
    # after this point can leave an orphan file, never a row without its file.
    photo.file.save(f"original.{checked.extension}", ContentFile(checked.content), save=False)
    photo.thumbnail.save("thumb.jpg", ContentFile(checked.thumbnail), save=False)
    photo.save()
    return photo


# --- Registration --------------------------------------------------------------------------


@transaction.atomic
def item_register(
    *,
    actor,
    site: Site,
    item_type: ItemType,
    data: dict,
    custom_values: dict | None = None,
    photos: Iterable = (),
    cites_mark: str | None = None,
) -> StockItem:
    """Register one item at ``site``; allocates its SMS number and, when the
    type needs one and none is given, its CITES mark (see stock.marks)."""
    errors: dict[str, list[str]] = {}
    if not actor.has_perm("stock.register_item") or not can_see_site(actor, site):
        errors["site"] = [_("You may not register items at this site.")]
    elif not site.active:
        errors["site"] = [_("This site is closed.")]
    if not item_type.enabled:
        errors["item_type"] = [_("This item type is not in use.")]
    unknown = sorted(set(data) - set(ITEM_FIELDS))
    for name in unknown:
        errors[name] = [_("This field cannot be set here.")]
    clean, field_errors = _clean_item_fields(data, item_type=item_type)
    errors.update(field_errors)
    values, custom_errors = validate_custom_values(item_type=item_type, values=custom_values)
    errors.update(custom_errors)
    errors.update(text_errors(StockItem, notes=clean.get("notes")))  # core.text
    mark = None
    if cites_mark and str(cites_mark).strip():
        mark, mark_errors = _check_mark(cites_mark, item_type=item_type)
        if mark_errors:
            errors["cites_mark"] = mark_errors
    checked, photo_errors = _check_photos(photos)
    if photo_errors:
        errors["photos"] = photo_errors
    _raise(errors)

    if mark is None and marks.mark_required(
        item_type=item_type, weight_kg=clean["weight_kg"], length_cm=_longest(clean)
    ):
        mark = _generate_mark(item_type=item_type, weight_kg=clean["weight_kg"])
    item = StockItem(
        sms_number=marks.allocate_sms_number(),
        site=site,
        item_type=item_type,
        status=StockItem.Status.IN_STOCK,
        custom_values=values,
        cites_mark=mark,
        created_by=actor,
        **clean,
    )
    try:
        with transaction.atomic():
            item.save(force_insert=True)
    except IntegrityError:
        # A concurrent registration took the same typed mark between our
        # check and our insert.
        raise ValidationError(
            {"cites_mark": [_("The mark %(mark)s is already in use.") % {"mark": mark}]}
        ) from None
    for photo in checked:
        _store_photo(actor=actor, item=item, checked=photo)
    totals_adjust(before=None, after=TotalsKey.of(item))
    ledger.append(
        event=ledger.Event.REGISTERED,
        actor=actor,
        site=site,
        item=item,
        payload={
            "sms_number": item.sms_number,
            "item_type": item_type.code,
            "cites_mark": item.cites_mark,
            "weight_kg": item.weight_kg,
            "pieces": item.pieces,
            "site": site.code,
        },
    )
    return item


def _generate_mark(*, item_type: ItemType, weight_kg) -> str:
    # A typed mark may already use the next serial: skip to a free one (the
    # skipped serial is not a gap, it is on the item that was typed in).
    while True:
        allocated = marks.allocate_mark(category=item_type.category, weight_kg=weight_kg)
        if not StockItem.objects.filter(cites_mark=allocated.mark).exists():
            return allocated.mark


# --- Corrections ---------------------------------------------------------------------------


@transaction.atomic
def item_correct(*, actor, item: StockItem, changes: dict, reason: str) -> list[ItemChange]:
    """Apply ``changes`` ({field: new value}; "custom_values" takes a dict of
    keys to change) and record one ItemChange per field that really changed.
    Returns the changes recorded ([] when every value was already so)."""
    _require(actor, "correct_item")
    item = _locked_item_in_scope(actor=actor, item=item)
    errors: dict[str, list[str]] = {}
    if item.is_archived:
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("This item is archived; it can no longer be corrected.")]}
        )
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Give the reason for this correction.")]
    # Only a changed note is checked: a long one recorded before the limit stays.
    errors.update(text_errors(ItemChange, reason=reason))
    errors.update(text_errors(StockItem, notes=changes.get("notes")))
    for name in changes:
        if name in NOT_CORRECTABLE:
            errors[name] = [str(NOT_CORRECTABLE[name])]
        elif name not in ITEM_FIELDS and name not in CORRECTABLE_EXTRA:
            errors[name] = [_("This field cannot be corrected.")]

    item_type = item.item_type
    if "item_type" in changes and "item_type" not in errors:
        new_type = changes["item_type"]
        if not isinstance(new_type, ItemType):
            new_type = ItemType.objects.filter(pk=new_type).first()
        if new_type is None or not new_type.enabled:
            errors["item_type"] = [_("Choose an item type in use.")]
        else:
            item_type = new_type
    current = {name: getattr(item, name) for name in ITEM_FIELDS}
    merged = {**current, **{k: v for k, v in changes.items() if k in ITEM_FIELDS}}
    clean, field_errors = _clean_item_fields(merged, item_type=item_type)
    errors.update({k: v for k, v in field_errors.items() if k not in errors})
    values, custom_errors = validate_custom_values(
        item_type=item_type,
        values=changes.get("custom_values") or {},
        existing=item.custom_values,
    )
    errors.update(custom_errors)
    mark = item.cites_mark
    if "cites_mark" in changes:
        new_mark = changes["cites_mark"]
        if new_mark and str(new_mark).strip():
            mark, mark_errors = _check_mark(new_mark, item_type=item_type, exclude_pk=item.pk)
            if mark_errors:
                errors["cites_mark"] = mark_errors
        else:
            mark = None
    _raise(errors)

    before = TotalsKey.of(item)
    recorded = []
    new_values = {**clean, "item_type": item_type, "cites_mark": mark}
    for name in (*ITEM_FIELDS, "item_type", "cites_mark"):
        old, new = getattr(item, name), new_values[name]
        if old != new:
            recorded.append((name, _jsonable(old), _jsonable(new)))
            setattr(item, name, new)
    for key in sorted(set(values) | set(item.custom_values)):
        old, new = item.custom_values.get(key), values.get(key)
        if old != new:
            recorded.append((f"custom_values.{key}", old, new))
    item.custom_values = values
    if not recorded:
        return []
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        raise ValidationError(
            {"cites_mark": [_("The mark %(mark)s is already in use.") % {"mark": mark}]}
        ) from None
    totals_adjust(before=before, after=TotalsKey.of(item))
    ledger.append(
        event=ledger.Event.CORRECTION,
        actor=actor,
        site=item.site_id,
        item=item,
        payload={
            "changes": [{"field": f, "old": old, "new": new} for f, old, new in recorded],
            "reason": reason,
        },
    )
    return ItemChange.objects.bulk_create(
        [
            ItemChange(
                item=item,
                field=field,
                old_value=old,
                new_value=new,
                reason=reason,
                changed_by=actor,
            )
            for field, old, new in recorded
        ]
    )


# --- Photos -----------------------------------------------------------------------------------


@transaction.atomic
def photo_add(*, actor, item: StockItem, upload, caption: str = "") -> ItemPhoto:
    if not (actor.has_perm("stock.register_item") or actor.has_perm("stock.correct_item")):
        raise PermissionDenied(_("You are not allowed to do this."))
    item = _locked_item_in_scope(actor=actor, item=item)
    if item.is_archived:
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("This item is archived; photos can no longer be added.")]}
        )
    _raise(text_errors(ItemPhoto, caption=caption.strip()))
    checked, messages = _check_photos([upload])
    if messages:
        raise ValidationError({"photos": messages})
    return _store_photo(actor=actor, item=item, checked=checked[0], caption=caption.strip())


# --- Archive ---------------------------------------------------------------------------------------


@transaction.atomic
def item_archive(
    *,
    actor,
    item: StockItem,
    reason: str,
    archived_on: datetime.date,
    authority_reference: str,
    destruction_method: str = "",
    witnesses: str = "",
    incident_reference: str = "",
    notes: str = "",
    related_items: Iterable[StockItem] = (),
) -> ArchiveRecord:
    """Take ``item`` out of the stock for good: status archived, one
    ArchiveRecord, and its weight and pieces leave the in-stock totals."""
    _require(actor, "archive_item")
    item = _locked_item_in_scope(actor=actor, item=item)
    if item.is_archived:
        raise ValidationError({NON_FIELD_ERRORS: [_("This item is already archived.")]})
    errors: dict[str, list[str]] = {}
    Reason = ArchiveRecord.Reason
    if reason not in Reason.values:
        errors["reason"] = [_("Choose a reason from the list.")]
    if not isinstance(archived_on, datetime.date):
        errors["archived_on"] = [_("Enter the date.")]
    elif archived_on > timezone.localdate():
        errors["archived_on"] = [_("This date is in the future.")]
    elif archived_on < item.received_on:
        errors["archived_on"] = [_("The item cannot leave the store before it was received.")]
    authority_reference = (authority_reference or "").strip()
    if not authority_reference:
        errors["authority_reference"] = [_("Give the reference of the authorising decision.")]
    destruction_method, witnesses = destruction_method.strip(), witnesses.strip()
    incident_reference = incident_reference.strip()
    if reason == Reason.DESTROYED:
        if not destruction_method:
            errors["destruction_method"] = [_("Say how the item was destroyed.")]
        if not witnesses:
            errors["witnesses"] = [_("Name the witnesses of the destruction.")]
    if reason == Reason.LOST_STOLEN and not incident_reference:
        errors["incident_reference"] = [_("Give the incident or police report reference.")]
    for name, messages in text_errors(
        ArchiveRecord,
        authority_reference=authority_reference,
        destruction_method=destruction_method,
        witnesses=witnesses,
        incident_reference=incident_reference,
        notes=notes,
    ).items():
        errors.setdefault(name, messages)
    related = list(related_items)
    visible_related = [r for r in related if r.pk != item.pk and can_see_site(actor, r.site)]
    if len(visible_related) != len(related):
        errors["related_items"] = [_("Link only other items of your sites.")]
    _raise(errors)

    before = TotalsKey.of(item)
    item.status = StockItem.Status.ARCHIVED
    item.save(update_fields=["status", "updated_at"])
    totals_adjust(before=before, after=TotalsKey.of(item))
    record = ArchiveRecord.objects.create(
        item=item,
        reason=reason,
        archived_on=archived_on,
        authority_reference=authority_reference,
        destruction_method=destruction_method,
        witnesses=witnesses,
        incident_reference=incident_reference,
        notes=notes.strip(),
        archived_by=actor,
    )
    if related:
        record.related_items.set(related)
    ledger.append(
        event=ledger.Event.ARCHIVED,
        actor=actor,
        site=item.site_id,
        item=item,
        payload={
            "reason": reason,
            "archived_on": archived_on,
            "authority_reference": authority_reference,
            "weight_kg": item.weight_kg,
            "related_items": sorted(str(r.pk) for r in related),
        },
    )
    return record


# --- Custom field definitions -----------------------------------------------------------------


DEFINITION_FIELDS = ("key", "labels", "field_type", "unit", "required", "choices", "order")


def _definition_snapshot(definition: CustomFieldDefinition) -> dict:
    return {
        "key": definition.key,
        "labels": definition.labels,
        "field_type": definition.field_type,
        "unit": definition.unit,
        "required": definition.required,
        "choices": definition.choices,
        "order": definition.order,
        "active": definition.active,
        "applies_to": sorted(definition.applies_to.values_list("code", flat=True)),
    }


def _require_fields_admin(actor) -> None:
    if not (
        actor.has_perm("stock.add_customfielddefinition")
        and actor.has_perm("stock.change_customfielddefinition")
    ):
        raise PermissionDenied(_("Only SMS administrators manage custom fields."))


@transaction.atomic
def custom_field_save(
    *, actor, definition: CustomFieldDefinition | None, data: dict
) -> CustomFieldDefinition:
    """Create (definition=None) or update a definition; logs before/after.

    ``data``: key, labels {lang: text}, field_type, unit, required, choices
    [{"value", "labels"}], order, applies_to (ItemTypes or ids; empty = all).
    The key and type of an existing field don't change: stored values depend
    on them.
    """
    _require_fields_admin(actor)
    errors: dict[str, list[str]] = {}
    creating = definition is None
    if creating:
        definition = CustomFieldDefinition()
        before = None
    else:
        definition = CustomFieldDefinition.objects.select_for_update().get(pk=definition.pk)
        before = _definition_snapshot(definition)
        for name in ("key", "field_type"):
            if name in data and data[name] != getattr(definition, name):
                errors[name] = [_("This cannot change once the field exists.")]
    for name in DEFINITION_FIELDS:
        if name in data and name not in errors:
            setattr(definition, name, data[name])
    labels = definition.labels if isinstance(definition.labels, dict) else {}
    if not any(str(v).strip() for v in labels.values()):
        errors["labels"] = [_("Give the field a label.")]
    kinds = CustomFieldDefinition.FieldType
    if definition.field_type in (kinds.CHOICE, kinds.MULTI_CHOICE):
        choices = definition.choices if isinstance(definition.choices, list) else []
        values = [str(c.get("value", "")).strip() for c in choices if isinstance(c, dict)]
        if not values or "" in values or len(set(values)) != len(values):
            errors["choices"] = [_("Give at least one choice, each with its own value.")]
    elif definition.choices:
        definition.choices = []
    try:
        definition.full_clean(exclude=["applies_to", *errors])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, messages)
    types = None
    if "applies_to" in data:
        ids = [t.pk if isinstance(t, ItemType) else t for t in data["applies_to"] or ()]
        types = list(ItemType.objects.filter(pk__in=ids))
        if len(types) != len(set(ids)):
            errors["applies_to"] = [_("Choose item types from the list.")]
    _raise(errors)
    definition.save()
    if types is not None:
        definition.applies_to.set(types)
    after = _definition_snapshot(definition)
    if after != before:
        FieldDefinitionChange.objects.create(
            definition=definition,
            action=FieldDefinitionChange.Action.CREATED
            if creating
            else FieldDefinitionChange.Action.UPDATED,
            before=before,
            after=after,
            changed_by=actor,
        )
    return definition


@transaction.atomic
def custom_field_deactivate(
    *, actor, definition: CustomFieldDefinition, active: bool = False
) -> CustomFieldDefinition:
    """Deactivate (or, with active=True, reactivate) a field; values stay on items."""
    _require_fields_admin(actor)
    definition = CustomFieldDefinition.objects.select_for_update().get(pk=definition.pk)
    if definition.active == active:
        return definition
    before = _definition_snapshot(definition)
    definition.active = active
    definition.save(update_fields=["active"])
    FieldDefinitionChange.objects.create(
        definition=definition,
        action=FieldDefinitionChange.Action.REACTIVATED
        if active
        else FieldDefinitionChange.Action.DEACTIVATED,
        before=before,
        after=_definition_snapshot(definition),
        changed_by=actor,
    )
    return definition
