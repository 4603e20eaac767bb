"""Transfers between sites (country schema): prepare, dispatch, cancel,
receive; a receipt that does not match raises discrepancies.

The items' site and status change through stock.services.item_move (stock
writes its own rows); each change appends its custody ledger entry in the
same transaction.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require
from core.errors import raise_errors
from core.jsonable import jsonable
from core.text import text_errors
from ledger import chain as ledger
from stock import services as stock_services
from stock.models import Site, StockItem
from stock.scope import can_see_site

from ..models import Discrepancy, Transfer, TransferItem
from .common import (
    Event,
    State,
    Status,
    append_received,
    custody_settings,
    locked_transfer,
    parse_weight,
    refresh_transfer_status,
)


# Not durable: the form's one-time token is spent in the same transaction
# (stock.submissions.create_once), so a double post creates one.
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
    require(actor, "custody.dispatch_transfer")
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
    raise_errors(errors)

    locked = list(StockItem.objects.select_for_update().filter(pk__in=item_ids).order_by("pk"))
    wrong = [i.sms_number for i in locked if i.site_id != origin.pk or i.status != Status.IN_STOCK]
    if len(locked) != len(item_ids):
        errors["items"] = [_("Some of the chosen items do not exist.")]
    elif wrong:
        errors["items"] = [
            _("These items are not in stock at %(site)s: %(numbers)s")
            % {"site": origin.name, "numbers": ", ".join(sorted(wrong))}
        ]
    raise_errors(errors)
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


@transaction.atomic(durable=True)
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
    require(actor, "custody.dispatch_transfer")
    transfer = locked_transfer(actor=actor, transfer=transfer)
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
    raise_errors(errors)

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
    # The whole transfer in a few statements, whatever its size: the items in
    # one UPDATE (and the totals per type), the lines in one, the ledger's
    # entries in one INSERT under one lock of its head (ledger.batched).
    stock_services.items_move(items=[items[ln.item_id] for ln in lines], status=Status.IN_TRANSIT)
    for line in lines:
        line.state = State.IN_TRANSIT
        line.weight_dispatched = items[line.item_id].weight_kg
    TransferItem.objects.bulk_update(lines, ["state", "weight_dispatched"], batch_size=1000)
    payload = {
        "transfer": transfer.reference,
        "from": transfer.origin.code,
        "to": transfer.destination.code,
        "seal_numbers": seal_numbers,
        "courier": courier,
        "vehicle": transfer.vehicle,
        "dispatching_officer": dispatching_officer,
    }
    with ledger.batched():
        for line in lines:
            ledger.append(
                event=Event.DISPATCHED,
                actor=actor,
                site=transfer.origin_id,
                item=line.item_id,
                transfer=transfer,
                payload={**payload, "weight_kg": items[line.item_id].weight_kg},
            )
    return transfer


@transaction.atomic(durable=True)
def transfer_cancel(*, actor, transfer: Transfer, reason: str) -> Transfer:
    """Cancel a draft (never a dispatched transfer): its items are free again."""
    require(actor, "custody.dispatch_transfer")
    transfer = locked_transfer(actor=actor, transfer=transfer)
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
    # "Arrived as dispatched": no weight typed means the dispatched weight,
    # vouched for by the receiving officer (the ledger entry says so).
    as_dispatched: bool = False


def _tolerance_exceeded(
    dispatched: Decimal, received: Decimal, tolerance: Decimal | None = None
) -> tuple[bool, Decimal]:
    if tolerance is None:
        tolerance = custody_settings().transfer_weight_tolerance_percent
    percent = (abs(received - dispatched) * 100 / dispatched).quantize(Decimal("0.01"))
    return percent > tolerance, percent


def _raise_discrepancy(*, actor, transfer, line, kind, details) -> Discrepancy:
    discrepancy = Discrepancy.objects.create(
        transfer=transfer,
        line=line,
        item=line.item,
        kind=kind,
        details=jsonable(details),
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


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _receipt_weights(checks: list[ReceiptCheck], lines: dict) -> dict[str, Decimal | None]:
    """The weight of each item checked present; raises every problem of ``checks``."""
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
        if check.present and check.as_dispatched and _blank(check.weight_kg):
            weights[key] = line.weight_dispatched
        elif check.present:
            weights[key] = parse_weight(check.weight_kg, field=f"weight_{key}", errors=errors)
        for message in text_errors(TransferItem, note=check.note).get("note", []):
            errors[f"note_{key}"] = [message]
    if not checks:
        errors[NON_FIELD_ERRORS] = [_("Check at least one item.")]
    raise_errors(errors)
    return weights


def _receipt_entries(*, actor, transfer, line, tolerance: Decimal, as_dispatched: bool) -> None:
    """The ledger entry of an item checked present (moved into the
    destination's stock by the caller) and the discrepancies its weight or
    seal call for."""
    received = line.weight_received
    exceeded, percent = _tolerance_exceeded(line.weight_dispatched, received, tolerance)
    details = {"difference_percent": percent, "seal_intact": line.seal_intact}
    if as_dispatched:
        details["as_dispatched"] = True
    append_received(actor=actor, transfer=transfer, line=line, **details)
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
                "tolerance_percent": tolerance,
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


_RECEIPT_FIELDS = [
    "received_by",
    "received_at",
    "present",
    "note",
    "seal_intact",
    "weight_received",
    "state",
    "open",
]


@transaction.atomic(durable=True)
def transfer_receive(*, actor, transfer: Transfer, checks: Iterable[ReceiptCheck]) -> Transfer:
    """Record what arrived. Items checked present come into the destination's
    stock; a weight beyond the country's tolerance, a broken seal or an item
    reported absent raises a Discrepancy for an administrator. Items not in
    ``checks`` stay in transit (partial receipt)."""
    require(actor, "custody.receive_transfer")
    transfer = locked_transfer(actor=actor, transfer=transfer)
    if not can_see_site(actor, transfer.destination):
        raise PermissionDenied(_("Only the receiving site receives a transfer."))
    if transfer.status not in (Transfer.Status.DISPATCHED, Transfer.Status.PARTIALLY_RECEIVED):
        raise ValidationError({NON_FIELD_ERRORS: [_("This transfer is not on its way.")]})
    checks = list(checks)
    lines = {
        str(line.item_id): line
        for line in transfer.lines.select_for_update().select_related("item")
    }
    weights = _receipt_weights(checks, lines)

    now = timezone.now()
    # The country's tolerance once, and every item checked locked in one query.
    tolerance = custody_settings().transfer_weight_tolerance_percent
    items = {
        item.pk: item
        for item in StockItem.objects.select_for_update()
        .filter(pk__in=[lines[str(c.item_id)].item_id for c in checks])
        .order_by("pk")
    }
    checked = []
    for check in checks:
        key = str(check.item_id)
        line = lines[key]
        line.item = items[line.item_id]
        line.received_by, line.received_at = actor, now
        line.present, line.note = bool(check.present), (check.note or "").strip()
        if check.present:
            line.seal_intact = bool(check.seal_intact)
            line.weight_received = weights[key]
            line.state = State.RECEIVED
            line.open = False
        else:
            line.state = State.MISSING_REPORTED
        checked.append((line, check.present and check.as_dispatched and _blank(check.weight_kg)))
    # The whole receipt in a few statements, whatever its size: the items
    # that arrived in one UPDATE (the totals per type), the lines in one, the
    # ledger's entries in one INSERT under one lock of its head
    # (ledger.batched); only the discrepancies are written one by one.
    stock_services.items_move(
        items=[line.item for line, _as in checked if line.present],
        site=transfer.destination,
        status=Status.IN_STOCK,
    )
    TransferItem.objects.bulk_update(
        [line for line, _as in checked], _RECEIPT_FIELDS, batch_size=1000
    )
    with ledger.batched():
        for line, as_dispatched in checked:
            if line.present:
                _receipt_entries(
                    actor=actor,
                    transfer=transfer,
                    line=line,
                    tolerance=tolerance,
                    as_dispatched=as_dispatched,
                )
            else:
                _raise_discrepancy(
                    actor=actor,
                    transfer=transfer,
                    line=line,
                    kind=Discrepancy.Kind.MISSING_ITEM,
                    details={"weight_dispatched": line.weight_dispatched, "note": line.note},
                )
    refresh_transfer_status(transfer)
    return transfer
