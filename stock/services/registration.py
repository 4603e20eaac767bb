"""Registering items and adding their photos (country schema).

Registering needs ``stock.register_item`` and the site in the actor's scope
(else a ValidationError on ``site``); adding a photo needs ``register_item``
or ``correct_item`` (else PermissionDenied) and the item's site in scope
(else Http404). The ODK sync and custody's stock-takes call these same
functions, inside their own transactions: neither is durable.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.permissions import may, may_any, require_any
from core.bulk import copy_create
from core.errors import raise_errors
from core.text import text_errors
from ledger import chain as ledger

from .. import marks
from ..custom_fields import validate_custom_values
from ..models import ItemPhoto, ItemType, MarkFlag, Site, StockItem
from ..scope import can_see_site
from .common import check_photos, locked_item_in_scope, store_photo
from .fields import (
    ITEM_FIELDS,
    MarkCheck,
    check_mark,
    clean_item_fields,
    generate_mark,
    length_errors,
    longest,
    mark_parts,
)
from .totals import TotalsKey, totals_add_many, totals_adjust


@dataclass
class Registration:
    """One registration checked by ``registration_check`` and ready to write:
    the cleaned fields, custom values, the typed mark checked (or None) and
    the checked photos."""

    site: Site
    item_type: ItemType
    clean: dict
    values: dict
    mark: MarkCheck | None
    photos: list = dc_field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return list(self.mark.warnings) if self.mark is not None else []


def registration_check(
    *,
    actor,
    site: Site,
    item_type: ItemType,
    data: dict,
    custom_values: dict | None = None,
    photos: Iterable = (),
    cites_mark: str | None = None,
    permission: str = "stock.register_item",
) -> Registration:
    """Every check of a registration, writing nothing: raises ValidationError
    {field: [messages]} (the keys of stock.services), else returns what
    ``item_register`` / ``items_register_many`` write. ``permission``: the
    permission of the caller's path (the register import has its own,
    imports.import_register); the site must be in the actor's scope either way.
    A typed mark's collision with another item is checked here; two marks of
    one batch against each other are the batch's to check."""
    errors: dict[str, list[str]] = {}
    if not may(actor, permission) or not can_see_site(actor, site):
        errors["site"] = [_("You may not register items at this site.")]
    elif not site.active:
        errors["site"] = [_("This site is closed.")]
    if not item_type.enabled:
        errors["item_type"] = [_("This item type is not in use.")]
    unknown = sorted(set(data) - set(ITEM_FIELDS))
    for name in unknown:
        errors[name] = [_("This field cannot be set here.")]
    clean, field_errors = clean_item_fields(data, item_type=item_type)
    errors.update(field_errors)
    for name, messages in length_errors(clean, item_type=item_type).items():
        errors.setdefault(name, messages)
    values, custom_errors = validate_custom_values(item_type=item_type, values=custom_values)
    errors.update(custom_errors)
    errors.update(text_errors(StockItem, notes=clean.get("notes")))  # core.text
    mark = None
    if cites_mark and str(cites_mark).strip():
        mark = check_mark(cites_mark, item_type=item_type, weight_kg=clean.get("weight_kg"))
        if mark.errors:
            errors["cites_mark"] = mark.errors
    checked, photo_errors = check_photos(photos)
    if photo_errors:
        errors["photos"] = photo_errors
    raise_errors(errors)
    return Registration(
        site=site, item_type=item_type, clean=clean, values=values, mark=mark, photos=checked
    )


def _mark_columns(registration: Registration) -> dict:
    clean, item_type = registration.clean, registration.item_type
    if registration.mark is not None:
        columns = mark_parts(registration.mark.parsed)
        # An older inventory's mark whose weight differs: kept, and listed.
        columns["mark_flag"] = MarkFlag.LEGACY_WEIGHT if registration.mark.warnings else ""
        return columns
    if marks.mark_required(
        item_type=item_type, weight_kg=clean["weight_kg"], length_cm=longest(clean)
    ):
        return generate_mark(item_type=item_type, weight_kg=clean["weight_kg"])
    return {}


def _new_item(*, actor, registration: Registration, sms_number: str) -> StockItem:
    return StockItem(
        sms_number=sms_number,
        site=registration.site,
        item_type=registration.item_type,
        status=StockItem.Status.IN_STOCK,
        custom_values=registration.values,
        created_by=actor,
        **_mark_columns(registration),
        **registration.clean,
    )


def _registered_payload(item: StockItem, extra: dict | None = None) -> dict:
    return {
        "sms_number": item.sms_number,
        "item_type": item.item_type.code,
        "cites_mark": item.cites_mark,
        "weight_kg": item.weight_kg,
        "pieces": item.pieces,
        "site": item.site.code,
        **(extra or {}),
    }


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
    registration = registration_check(
        actor=actor,
        site=site,
        item_type=item_type,
        data=data,
        custom_values=custom_values,
        photos=photos,
        cites_mark=cites_mark,
    )
    item = _new_item(actor=actor, registration=registration, sms_number=marks.allocate_sms_number())
    try:
        with transaction.atomic():
            item.save(force_insert=True)
    except IntegrityError:
        # A concurrent registration took the same typed mark between our
        # check and our insert.
        raise ValidationError(
            {"cites_mark": [_("The mark %(mark)s is already in use.") % {"mark": item.cites_mark}]}
        ) from None
    for photo in registration.photos:
        store_photo(actor=actor, item=item, checked=photo)
    totals_adjust(before=None, after=TotalsKey.of(item))
    ledger.append(
        event=ledger.Event.REGISTERED,
        actor=actor,
        site=site,
        item=item,
        payload=_registered_payload(item),
    )
    return item


@transaction.atomic
def items_register_many(
    *, actor, registrations: list[Registration], payloads: list[dict] | None = None
) -> list[StockItem]:
    """Write many checked registrations (``registration_check``) at once, in
    the caller's transaction: their SMS numbers in one allocation, one INSERT
    for the items, the totals summed per (site, type), one ledger batch of
    every REGISTERED entry (``payloads[i]`` is added to item i's). The
    register import writes through here; the checks are the single
    registration's. A typed mark taken meanwhile by another registration
    fails the whole batch (ValidationError on ``cites_mark``)."""
    if not registrations:
        return []
    numbers = marks.allocate_sms_numbers(len(registrations))
    items = [
        _new_item(actor=actor, registration=registration, sms_number=number)
        for registration, number in zip(registrations, numbers, strict=True)
    ]
    try:
        with transaction.atomic():
            copy_create(items)  # core.bulk: one COPY, the rows bulk_create would insert
    except IntegrityError:
        raise ValidationError(
            {"cites_mark": [_("A mark of this batch was taken meanwhile by another item.")]}
        ) from None
    for item, registration in zip(items, registrations, strict=True):
        for photo in registration.photos:
            store_photo(actor=actor, item=item, checked=photo)
    totals_add_many([TotalsKey.of(item) for item in items])
    extras = payloads or [{}] * len(items)
    # The ledger's one batch path (ledger.chain.batched, as the ODK sync):
    # one head lock, one INSERT, the aggregates told of the whole batch.
    with ledger.batched():
        for item, extra in zip(items, extras, strict=True):
            ledger.append(
                event=ledger.Event.REGISTERED,
                actor=actor,
                site=item.site_id,
                item=item.pk,
                payload=_registered_payload(item, extra),
            )
    return items


# Who may add photos to a registered item: whoever may register or correct
# items (with the item's site in scope). The item page's form, its view and
# the services below all ask ``may_add_photos``.
PHOTO_ADDING_PERMISSIONS = ("stock.register_item", "stock.correct_item")


def may_add_photos(actor) -> bool:
    return may_any(actor, *PHOTO_ADDING_PERMISSIONS)


def photo_add(*, actor, item: StockItem, upload, caption: str = "") -> ItemPhoto:
    """One photo, as a stock-take line or an ODK submission brings it:
    ``photos_add`` with one upload. The same bytes as a photo the item already
    has are kept again here (a second stock-take may well photograph the item
    the same way), not refused as on the item page."""
    return photos_add(
        actor=actor, item=item, uploads=[upload], caption=caption, refuse_repeats=False
    )[0]


@transaction.atomic
def photos_add(
    *, actor, item: StockItem, uploads: Iterable, caption: str = "", refuse_repeats: bool = True
) -> list[ItemPhoto]:
    """Photos added to a registered item (its page, a stock-take, ODK): each
    checked and fingerprinted (SHA-256 of the original bytes) exactly as at
    registration, all or none. Who may: whoever may register or correct items
    (``stock.register_item`` or ``stock.correct_item``) with the item's site
    in scope (else PermissionDenied / Http404) — a photo is part of the
    item's record, as at registration. Not for an archived item: its record
    was closed when it left custody (destroyed, returned...), and a photo
    taken afterwards could not show the item as it was held. Each photo is in
    the item's history (who, when, SHA-256), as registration's are."""
    require_any(actor, *PHOTO_ADDING_PERMISSIONS)
    item = locked_item_in_scope(actor=actor, item=item)
    if item.is_archived:
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("This item is archived; photos can no longer be added.")]}
        )
    caption = (caption or "").strip()
    raise_errors(text_errors(ItemPhoto, caption=caption))
    uploads = [upload for upload in uploads if upload]
    if not uploads:
        raise ValidationError({"photos": [_("Choose at least one photo.")]})
    checked, messages = check_photos(uploads)
    # The same file twice (a second click, the same photo chosen again) is
    # refused: the item already has it, with its fingerprint.
    if refuse_repeats and not messages:
        seen = set(ItemPhoto.objects.filter(item=item).values_list("sha256", flat=True))
        for upload, photo in zip(uploads, checked, strict=True):
            if photo.sha256 in seen:
                messages.append(
                    _("%(name)s: this photo is already on the item.")
                    % {"name": getattr(upload, "name", "") or photo.sha256[:12]}
                )
            seen.add(photo.sha256)
    if messages:
        raise ValidationError({"photos": messages})
    return [
        store_photo(actor=actor, item=item, checked=photo, caption=caption) for photo in checked
    ]
