"""Custody writes (country schema): transfers, receipts, discrepancies,
stock-takes and the custody settings.

Every function is atomic and keyword-only. Bad input raises ValidationError
with {field: [messages]} and writes nothing. An object outside the actor's
site scope is Http404 (as if it did not exist); an action on a visible
object that is not the actor's to take (a destination user dispatching, a
manager resolving) is PermissionDenied.

Each change to an item's custody, place, weight or status appends its ledger
entry (custody.ledger) and moves the item's contribution to StockTotal
(stock.services.totals_adjust) in the same transaction.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.text import text_errors
from ledger import chain as ledger
from stock import services as stock_services
from stock.models import ItemChange, ItemType, Site, StockItem
from stock.scope import can_see_site
from stock.services import TotalsKey, totals_adjust

from .models import (
    CustodySettings,
    Discrepancy,
    StockTake,
    StockTakeLine,
    Transfer,
    TransferItem,
)

Event = ledger.Event
Status = StockItem.Status
State = TransferItem.State
WEIGHT_PLACES = Decimal("0.001")


def custody_settings() -> CustodySettings:
    settings_row, _created = CustodySettings.objects.get_or_create(pk=1)
    return settings_row


def _require(actor, perm: str) -> None:
    if not actor.has_perm(f"custody.{perm}"):
        raise PermissionDenied(_("You are not allowed to do this."))


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _weight(raw, *, field: str, errors: dict, required: bool = True) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            errors[field] = [_("Enter the weight in kilograms.")]
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", ".")).quantize(WEIGHT_PLACES)
    except (InvalidOperation, ValueError):
        errors[field] = [_("Enter a number of kilograms, e.g. 12.345.")]
        return None
    if value <= 0:
        errors[field] = [_("The weight must be more than 0 kg.")]
        return None
    return value


def _move(item: StockItem, **changes) -> None:
    """Change an item's site/status/weight and its totals together."""
    before = TotalsKey.of(item)
    for name, value in changes.items():
        setattr(item, name, value)
    item.save(update_fields=[*changes, "updated_at"])
    totals_adjust(before=before, after=TotalsKey.of(item))


def _locked_transfer(*, actor, transfer: Transfer) -> Transfer:
    locked = (
        Transfer.objects.select_for_update()
        .select_related("origin", "destination")
        .get(pk=transfer.pk)
    )
    if not (can_see_site(actor, locked.origin) or can_see_site(actor, locked.destination)):
        raise Http404
    return locked


# --- Transfers ----------------------------------------------------------------------


@transaction.atomic
def transfer_create(
    *,
    actor,
    origin: Site,
    destination: Site,
    items: Iterable[StockItem],
    reason: str,
    authority_reference: str,
    notes: str = "",
) -> Transfer:
    """A draft transfer of ``items`` (all in stock at ``origin``). The items are
    held by it (no other open transfer may take them) until it is cancelled or
    closed."""
    _require(actor, "dispatch_transfer")
    errors: dict[str, list[str]] = {}
    if origin is None or not can_see_site(actor, origin):
        errors["origin"] = [_("You may only send items from your own sites.")]
    elif not origin.active:
        errors["origin"] = [_("This site is closed.")]
    if destination is None:
        errors["destination"] = [_("Choose the destination.")]
    elif origin is not None and destination.pk == origin.pk:
        errors["destination"] = [_("The destination must be another site.")]
    elif not destination.active:
        errors["destination"] = [_("This site is closed.")]
    reason, authority_reference = (reason or "").strip(), (authority_reference or "").strip()
    if not reason:
        errors["reason"] = [_("Say why the items are moved.")]
    if not authority_reference:
        errors["authority_reference"] = [_("Give the reference of the authorising decision.")]
    item_ids = list(dict.fromkeys(getattr(i, "pk", i) for i in items))
    if not item_ids:
        errors["items"] = [_("Choose at least one item.")]
    for name, messages in text_errors(
        Transfer, reason=reason, authority_reference=authority_reference, notes=notes
    ).items():
        errors.setdefault(name, messages)
    _raise(errors)

    locked = list(StockItem.objects.select_for_update().filter(pk__in=item_ids).order_by("pk"))
    wrong = [i.sms_number for i in locked if i.site_id != origin.pk or i.status != Status.IN_STOCK]
    if len(locked) != len(item_ids):
        errors["items"] = [_("Some of the chosen items do not exist.")]
    elif wrong:
        errors["items"] = [
            _("These items are not in stock at %(site)s: %(numbers)s")
            % {"site": origin.name, "numbers": ", ".join(sorted(wrong))}
        ]
    _raise(errors)
    busy = TransferItem.objects.filter(item_id__in=item_ids, open=True).select_related(
        "item", "transfer"
    )
    _raise_busy(list(busy))

    transfer = Transfer.objects.create(
        origin=origin,
        destination=destination,
        reason=reason,
        authority_reference=authority_reference,
        notes=(notes or "").strip(),
        created_by=actor,
    )
    try:
        with transaction.atomic():
            TransferItem.objects.bulk_create(
                [TransferItem(transfer=transfer, item=item) for item in locked]
            )
    except IntegrityError:
        # Another transfer took one of the items between our check and our insert.
        busy = TransferItem.objects.filter(item_id__in=item_ids, open=True).select_related(
            "item", "transfer"
        )
        _raise_busy(list(busy))
        raise
    return transfer


def _raise_busy(lines: list[TransferItem]) -> None:
    if lines:
        raise ValidationError(
            {
                "items": [
                    _("Item %(number)s is already in transfer %(reference)s.")
                    % {"number": line.item.sms_number, "reference": line.transfer.reference}
                    for line in lines
                ]
            }
        )


@transaction.atomic
def transfer_dispatch(
    *,
    actor,
    transfer: Transfer,
    seal_numbers: str,
    courier: str,
    vehicle: str = "",
    dispatching_officer: str,
) -> Transfer:
    """The items leave the origin: in transit, out of the origin's in-stock totals."""
    _require(actor, "dispatch_transfer")
    transfer = _locked_transfer(actor=actor, transfer=transfer)
    if not can_see_site(actor, transfer.origin):
        raise PermissionDenied(_("Only the sending site dispatches a transfer."))
    if transfer.status != Transfer.Status.DRAFT:
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("This transfer has already been dispatched or cancelled.")]}
        )
    errors: dict[str, list[str]] = {}
    seal_numbers, courier = (seal_numbers or "").strip(), (courier or "").strip()
    dispatching_officer = (dispatching_officer or "").strip()
    if not seal_numbers:
        errors["seal_numbers"] = [_("Give the numbers of the seals on the packages.")]
    if not courier:
        errors["courier"] = [_("Say who carries the items.")]
    if not dispatching_officer:
        errors["dispatching_officer"] = [_("Name the officer who dispatches the items.")]
    for name, messages in text_errors(
        Transfer,
        seal_numbers=seal_numbers,
        courier=courier,
        vehicle=(vehicle or "").strip(),
        dispatching_officer=dispatching_officer,
    ).items():
        errors.setdefault(name, messages)
    _raise(errors)

    lines = list(transfer.lines.select_related("item").order_by("item_id"))
    items = {
        i.pk: i
        for i in StockItem.objects.select_for_update().filter(pk__in=[ln.item_id for ln in lines])
    }
    wrong = [
        items[ln.item_id].sms_number
        for ln in lines
        if items[ln.item_id].site_id != transfer.origin_id
        or items[ln.item_id].status != Status.IN_STOCK
    ]
    if wrong:
        raise ValidationError(
            {
                "items": [
                    _("These items are no longer in stock at %(site)s: %(numbers)s")
                    % {"site": transfer.origin.name, "numbers": ", ".join(sorted(wrong))}
                ]
            }
        )
    now = timezone.now()
    transfer.status = Transfer.Status.DISPATCHED
    transfer.seal_numbers = seal_numbers
    transfer.courier = courier
    transfer.vehicle = (vehicle or "").strip()
    transfer.dispatching_officer = dispatching_officer
    transfer.dispatched_by = actor
    transfer.dispatched_at = now
    transfer.save()
    for line in lines:
        item = items[line.item_id]
        line.state = State.IN_TRANSIT
        line.weight_dispatched = item.weight_kg
        line.save(update_fields=["state", "weight_dispatched"])
        _move(item, status=Status.IN_TRANSIT)
        ledger.append(
            event=Event.DISPATCHED,
            actor=actor,
            site=transfer.origin_id,
            item=item,
            transfer=transfer,
            payload={
                "transfer": transfer.reference,
                "from": transfer.origin.code,
                "to": transfer.destination.code,
                "weight_kg": item.weight_kg,
                "seal_numbers": seal_numbers,
                "courier": courier,
                "vehicle": transfer.vehicle,
                "dispatching_officer": dispatching_officer,
            },
        )
    return transfer


@transaction.atomic
def transfer_cancel(*, actor, transfer: Transfer, reason: str) -> Transfer:
    """Cancel a draft (never a dispatched transfer): its items are free again."""
    _require(actor, "dispatch_transfer")
    transfer = _locked_transfer(actor=actor, transfer=transfer)
    if not can_see_site(actor, transfer.origin):
        raise PermissionDenied(_("Only the sending site cancels a transfer."))
    if transfer.status != Transfer.Status.DRAFT:
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("Only a transfer not yet dispatched can be cancelled.")]}
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the transfer is cancelled.")]})
    for message in text_errors(Transfer, cancel_reason=reason).get("cancel_reason", []):
        raise ValidationError({"reason": [message]})
    transfer.status = Transfer.Status.CANCELLED
    transfer.cancelled_by = actor
    transfer.cancelled_at = timezone.now()
    transfer.cancel_reason = reason
    transfer.save()
    transfer.lines.update(state=State.CANCELLED, open=False)
    return transfer


@dataclass
class ReceiptCheck:
    """What the receiving officer found for one item of the transfer."""

    item_id: object
    present: bool
    seal_intact: bool = True
    weight_kg: object = None
    note: str = ""


def _tolerance_exceeded(dispatched: Decimal, received: Decimal) -> tuple[bool, Decimal]:
    tolerance = custody_settings().transfer_weight_tolerance_percent
    percent = (abs(received - dispatched) * 100 / dispatched).quantize(Decimal("0.01"))
    return percent > tolerance, percent


def _refresh_status(transfer: Transfer) -> None:
    states = set(transfer.lines.values_list("state", flat=True))
    if states & {State.IN_TRANSIT, State.MISSING_REPORTED}:
        settled = bool(states & {State.RECEIVED, State.LOST})
        status = Transfer.Status.PARTIALLY_RECEIVED if settled else Transfer.Status.DISPATCHED
        completed = None
    else:
        status = Transfer.Status.RECEIVED
        completed = transfer.completed_at or timezone.now()
    if (status, completed) != (transfer.status, transfer.completed_at):
        transfer.status, transfer.completed_at = status, completed
        transfer.save(update_fields=["status", "completed_at"])


def _raise_discrepancy(*, actor, transfer, line, kind, details) -> Discrepancy:
    discrepancy = Discrepancy.objects.create(
        transfer=transfer,
        line=line,
        item=line.item,
        kind=kind,
        details=ledger.jsonable(details),
        raised_by=actor,
    )
    ledger.append(
        event=Event.DISCREPANCY,
        actor=actor,
        site=transfer.destination_id,
        item=line.item,
        transfer=transfer,
        payload={"transfer": transfer.reference, "kind": kind, **details},
    )
    return discrepancy


def _append_received(*, actor, transfer: Transfer, line: TransferItem, **details) -> None:
    """The ledger entry of an item received at the destination (at the receipt,
    or later when a missing item is found)."""
    ledger.append(
        event=Event.RECEIVED,
        actor=actor,
        site=transfer.destination_id,
        item=line.item,
        transfer=transfer,
        payload={
            "transfer": transfer.reference,
            "from": transfer.origin.code,
            "to": transfer.destination.code,
            "weight_dispatched": line.weight_dispatched,
            "weight_received": line.weight_received,
            **details,
        },
    )


@transaction.atomic
def transfer_receive(*, actor, transfer: Transfer, checks: Iterable[ReceiptCheck]) -> Transfer:
    """Record what arrived. Items checked present come into the destination's
    stock; a weight beyond the country's tolerance, a broken seal or an item
    reported absent raises a Discrepancy for an administrator. Items not in
    ``checks`` stay in transit (partial receipt)."""
    _require(actor, "receive_transfer")
    transfer = _locked_transfer(actor=actor, transfer=transfer)
    if not can_see_site(actor, transfer.destination):
        raise PermissionDenied(_("Only the receiving site receives a transfer."))
    if transfer.status not in (Transfer.Status.DISPATCHED, Transfer.Status.PARTIALLY_RECEIVED):
        raise ValidationError({NON_FIELD_ERRORS: [_("This transfer is not on its way.")]})
    checks = list(checks)
    lines = {
        str(line.item_id): line
        for line in transfer.lines.select_for_update().select_related("item")
    }
    errors: dict[str, list[str]] = {}
    weights: dict[str, Decimal | None] = {}
    for check in checks:
        key = str(check.item_id)
        line = lines.get(key)
        if line is None:
            errors.setdefault("items", []).append(_("An item is not part of this transfer."))
            continue
        if line.state != State.IN_TRANSIT:
            errors[f"item_{key}"] = [
                _("Item %(number)s was already received or reported.")
                % {"number": line.item.sms_number}
            ]
            continue
        if check.present:
            weights[key] = _weight(check.weight_kg, field=f"weight_{key}", errors=errors)
        for message in text_errors(TransferItem, note=check.note).get("note", []):
            errors[f"note_{key}"] = [message]
    if not checks:
        errors[NON_FIELD_ERRORS] = [_("Check at least one item.")]
    _raise(errors)

    now = timezone.now()
    for check in checks:
        key = str(check.item_id)
        line = lines[key]
        item = StockItem.objects.select_for_update().get(pk=line.item_id)
        line.item = item
        line.received_by, line.received_at = actor, now
        line.present, line.note = bool(check.present), (check.note or "").strip()
        if not check.present:
            line.state = State.MISSING_REPORTED
            line.save()
            _raise_discrepancy(
                actor=actor,
                transfer=transfer,
                line=line,
                kind=Discrepancy.Kind.MISSING_ITEM,
                details={"weight_dispatched": line.weight_dispatched, "note": line.note},
            )
            continue
        received = weights[key]
        line.seal_intact = bool(check.seal_intact)
        line.weight_received = received
        line.state = State.RECEIVED
        line.open = False
        line.save()
        _move(item, site=transfer.destination, status=Status.IN_STOCK)
        exceeded, percent = _tolerance_exceeded(line.weight_dispatched, received)
        _append_received(
            actor=actor,
            transfer=transfer,
            line=line,
            difference_percent=percent,
            seal_intact=line.seal_intact,
        )
        if exceeded:
            _raise_discrepancy(
                actor=actor,
                transfer=transfer,
                line=line,
                kind=Discrepancy.Kind.WEIGHT,
                details={
                    "weight_dispatched": line.weight_dispatched,
                    "weight_received": received,
                    "difference_percent": percent,
                    "tolerance_percent": custody_settings().transfer_weight_tolerance_percent,
                },
            )
        if not line.seal_intact:
            _raise_discrepancy(
                actor=actor,
                transfer=transfer,
                line=line,
                kind=Discrepancy.Kind.SEAL,
                details={"seal_numbers": transfer.seal_numbers, "note": line.note},
            )
    _refresh_status(transfer)
    return transfer


@transaction.atomic
def discrepancy_resolve(
    *, actor, discrepancy: Discrepancy, resolution: str, note: str, weight_kg=None
) -> Discrepancy:
    """An administrator settles a discrepancy, with a note.

    weight: accept the received weight (the item's weight changes, recorded as
    a correction) or keep the recorded one; seal: accepted after inquiry;
    missing item: declare it missing, or found (received at the destination,
    with its weight if re-measured)."""
    _require(actor, "resolve_discrepancy")
    discrepancy = Discrepancy.objects.select_for_update().get(pk=discrepancy.pk)
    transfer = _locked_transfer(actor=actor, transfer=discrepancy.transfer)
    if not discrepancy.is_open:
        raise ValidationError({NON_FIELD_ERRORS: [_("This discrepancy is already resolved.")]})
    errors: dict[str, list[str]] = {}
    if resolution not in Discrepancy.CHOICES_BY_KIND[discrepancy.kind]:
        errors["resolution"] = [_("Choose one of the resolutions offered.")]
    note = (note or "").strip()
    if not note:
        errors["note"] = [_("Explain the decision in a note.")]
    for message in text_errors(Discrepancy, resolution_note=note).get("resolution_note", []):
        errors["note"] = [message]
    found_weight = None
    if resolution == Discrepancy.Resolution.FOUND:
        found_weight = _weight(weight_kg, field="weight_kg", errors=errors, required=False)
    _raise(errors)

    line = TransferItem.objects.select_for_update().get(pk=discrepancy.line_id)
    item = StockItem.objects.select_for_update().select_related("site").get(pk=discrepancy.item_id)
    payload = {
        "transfer": transfer.reference,
        "kind": discrepancy.kind,
        "resolution": resolution,
        "note": note,
    }
    R = Discrepancy.Resolution
    site = item.site_id
    if resolution == R.ACCEPT_NEW_WEIGHT:
        old, new = item.weight_kg, Decimal(discrepancy.details["weight_received"])
        _move(item, weight_kg=new)
        ItemChange.objects.create(
            item=item,
            field="weight_kg",
            old_value=str(old),
            new_value=str(new),
            reason=_("Weight at receipt of transfer %(reference)s: %(note)s")
            % {"reference": transfer.reference, "note": note},
            changed_by=actor,
        )
        payload.update(old_weight=old, new_weight=new)
    elif resolution == R.MARK_MISSING:
        line.state, line.open = State.LOST, False
        line.save(update_fields=["state", "open"])
        _move(item, status=Status.MISSING)
        payload.update(status=Status.MISSING)
    elif resolution == R.FOUND:
        line.state, line.open = State.RECEIVED, False
        line.present = True
        line.weight_received = found_weight or line.weight_dispatched
        line.received_by, line.received_at = actor, timezone.now()
        line.save()
        changes = {"site": transfer.destination, "status": Status.IN_STOCK}
        if found_weight is not None:
            changes["weight_kg"] = found_weight
        _move(item, **changes)
        site = transfer.destination_id
        payload.update(status=Status.IN_STOCK, weight_kg=item.weight_kg)
    discrepancy.resolution = resolution
    discrepancy.resolution_note = note
    discrepancy.resolved_by = actor
    discrepancy.resolved_at = timezone.now()
    discrepancy.save()
    ledger.append(
        event=Event.DISCREPANCY_RESOLVED,
        actor=actor,
        site=site,
        item=item,
        transfer=transfer,
        payload=payload,
    )
    if resolution == R.FOUND:
        line.item = item
        _append_received(actor=actor, transfer=transfer, line=line, found_later=True)
    _refresh_status(transfer)
    return discrepancy


@transaction.atomic
def settings_update(*, actor, transfer_weight_tolerance_percent) -> CustodySettings:
    _require(actor, "resolve_discrepancy")
    errors: dict[str, list[str]] = {}
    try:
        value = Decimal(str(transfer_weight_tolerance_percent).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        value = None
    if value is None or value < 0 or value > 100:
        errors["transfer_weight_tolerance_percent"] = [_("Enter a percentage from 0 to 100.")]
    _raise(errors)
    row = CustodySettings.objects.select_for_update().get_or_create(pk=1)[0]
    row.transfer_weight_tolerance_percent = value.quantize(Decimal("0.01"))
    row.save()
    return row


# --- Stock-takes ------------------------------------------------------------------------


def _locked_stocktake(*, actor, stocktake: StockTake) -> StockTake:
    locked = StockTake.objects.select_for_update().select_related("site").get(pk=stocktake.pk)
    if not can_see_site(actor, locked.site):
        raise Http404
    return locked


def _require_open(stocktake: StockTake) -> None:
    if stocktake.status != StockTake.Status.OPEN:
        raise ValidationError({NON_FIELD_ERRORS: [_("This stock-take is signed off.")]})


@transaction.atomic
def stocktake_open(*, actor, site: Site, notes: str = "") -> StockTake:
    """Open a stock-take of ``site``: the items expected there (in stock, or
    recorded missing) are listed now and the list no longer changes."""
    _require(actor, "run_stocktake")
    if site is None or not can_see_site(actor, site):
        raise ValidationError({"site": [_("You may only count the stock of your own sites.")]})
    if StockTake.objects.filter(site=site, status=StockTake.Status.OPEN).exists():
        raise ValidationError({"site": [_("A stock-take of this site is already open.")]})
    _raise(text_errors(StockTake, notes=notes))
    try:
        with transaction.atomic():
            stocktake = StockTake.objects.create(
                site=site, notes=(notes or "").strip(), opened_by=actor
            )
    except IntegrityError:
        raise ValidationError({"site": [_("A stock-take of this site is already open.")]}) from None
    expected = StockItem.objects.filter(
        site=site, status__in=[Status.IN_STOCK, Status.MISSING]
    ).values_list("pk", "status", "weight_kg")
    StockTakeLine.objects.bulk_create(
        [
            StockTakeLine(
                stocktake=stocktake,
                item_id=pk,
                status_at_opening=status,
                expected_weight=weight,
            )
            for pk, status, weight in expected.iterator(chunk_size=2000)
        ],
        batch_size=2000,
    )
    return stocktake


@transaction.atomic
def stocktake_check(
    *,
    actor,
    stocktake: StockTake,
    item: StockItem,
    result: str,
    weight_kg=None,
    note: str = "",
    photo=None,
) -> StockTakeLine:
    """Record what the counter found for one expected item (may be repeated to
    fix a mistake until sign-off; each check is in the ledger)."""
    _require(actor, "run_stocktake")
    stocktake = _locked_stocktake(actor=actor, stocktake=stocktake)
    _require_open(stocktake)
    line = (
        StockTakeLine.objects.select_for_update()
        .select_related("item")
        .filter(stocktake=stocktake, item_id=getattr(item, "pk", item))
        .first()
    )
    if line is None:
        raise ValidationError(
            {"item": [_("This item is not on the list; register it as found without a record.")]}
        )
    errors: dict[str, list[str]] = {}
    R = StockTakeLine.Result
    if result not in (R.FOUND, R.DAMAGED, R.MISSING):
        errors["result"] = [_("Choose found, damaged or missing.")]
    measured = None
    if result != R.MISSING:
        measured = _weight(weight_kg, field="weight_kg", errors=errors, required=False)
    errors.update(text_errors(StockTakeLine, note=note))
    _raise(errors)
    if photo is not None and result != R.MISSING:
        try:
            line.photo = stock_services.photo_add(
                actor=actor,
                item=line.item,
                upload=photo,
                caption=_("Stock-take %(reference)s") % {"reference": stocktake.reference},
            )
        except PermissionDenied:
            raise ValidationError(
                {"photo": [_("Your role may not add photos; ask a store manager.")]}
            ) from None
    line.result = result
    line.weight_measured = measured
    line.note = (note or "").strip()
    line.checked_by, line.checked_at = actor, timezone.now()
    line.save()
    ledger.append(
        event=Event.STOCKTAKE_CHECKED,
        actor=actor,
        site=stocktake.site_id,
        item=line.item,
        stocktake=stocktake,
        payload={
            "stocktake": stocktake.reference,
            "result": result,
            "expected_weight": line.expected_weight,
            "weight_measured": measured,
            "note": line.note,
        },
    )
    return line


@transaction.atomic
def stocktake_register_item(
    *,
    actor,
    stocktake: StockTake,
    item_type: ItemType,
    data: dict,
    custom_values: dict | None = None,
    photos: Iterable = (),
    cites_mark: str | None = None,
) -> StockTakeLine:
    """An item found without a record: registered at the stock-take's site
    (stock.services.item_register) and listed as an addition."""
    _require(actor, "run_stocktake")
    stocktake = _locked_stocktake(actor=actor, stocktake=stocktake)
    _require_open(stocktake)
    item = stock_services.item_register(
        actor=actor,
        site=stocktake.site,
        item_type=item_type,
        data=data,
        custom_values=custom_values,
        photos=photos,
        cites_mark=cites_mark,
    )
    line = StockTakeLine.objects.create(
        stocktake=stocktake,
        item=item,
        expected=False,
        status_at_opening=Status.IN_STOCK,
        expected_weight=item.weight_kg,
        result=StockTakeLine.Result.FOUND,
        weight_measured=item.weight_kg,
        checked_by=actor,
        checked_at=timezone.now(),
    )
    ledger.append(
        event=Event.STOCKTAKE_CHECKED,
        actor=actor,
        site=stocktake.site_id,
        item=item,
        stocktake=stocktake,
        payload={
            "stocktake": stocktake.reference,
            "result": StockTakeLine.Result.FOUND,
            "unexpected": True,
            "weight_measured": item.weight_kg,
        },
    )
    return line


@transaction.atomic
def stocktake_sign_off(*, actor, stocktake: StockTake, note: str = "") -> StockTake:
    """Close the stock-take. Expected items still unchecked or checked missing
    become "missing" (and show so on the dashboard); items recorded missing
    before and found now are back in stock. Items that left the site in the
    meantime (a transfer) are left alone."""
    _require(actor, "run_stocktake")
    stocktake = _locked_stocktake(actor=actor, stocktake=stocktake)
    _require_open(stocktake)
    for message in text_errors(StockTake, sign_off_note=note).get("sign_off_note", []):
        raise ValidationError({"note": [message]})
    R, Outcome = StockTakeLine.Result, StockTakeLine.Outcome
    lines = list(stocktake.lines.filter(expected=True).select_for_update().order_by("item_id"))
    items = {
        i.pk: i
        for i in StockItem.objects.select_for_update().filter(pk__in=[ln.item_id for ln in lines])
    }
    for line in lines:
        item = items[line.item_id]
        here = item.site_id == stocktake.site_id
        absent = line.result in (R.UNCHECKED, R.MISSING)
        if here and absent and item.status == Status.IN_STOCK:
            _move(item, status=Status.MISSING)
            line.outcome = Outcome.MARKED_MISSING
            ledger.append(
                event=Event.STOCKTAKE_MISSING,
                actor=actor,
                site=stocktake.site_id,
                item=item,
                stocktake=stocktake,
                payload={
                    "stocktake": stocktake.reference,
                    "result": line.result,
                    "status": Status.MISSING,
                },
            )
        elif here and not absent and item.status == Status.MISSING:
            _move(item, status=Status.IN_STOCK)
            line.outcome = Outcome.FOUND_AGAIN
            ledger.append(
                event=Event.STOCKTAKE_FOUND,
                actor=actor,
                site=stocktake.site_id,
                item=item,
                stocktake=stocktake,
                payload={"stocktake": stocktake.reference, "status": Status.IN_STOCK},
            )
        elif not here or item.status not in (Status.IN_STOCK, Status.MISSING):
            line.outcome = Outcome.MOVED
        else:
            continue
        line.save(update_fields=["outcome"])
    stocktake.status = StockTake.Status.SIGNED_OFF
    stocktake.signed_off_by = actor
    stocktake.signed_off_at = timezone.now()
    stocktake.sign_off_note = (note or "").strip()
    stocktake.save()
    return stocktake
