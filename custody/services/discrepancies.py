"""Discrepancies found at a receipt, settled by an administrator, and the
country's tolerance for weights (country schema).

The item's place and status change through stock.services.item_move, its
weight through stock's correction path (stock.services.correction_submit);
custody writes no row of stock's.
"""

from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require
from core.decimals import parse_decimal
from core.errors import raise_errors
from core.text import text_errors
from ledger import chain as ledger
from stock import services as stock_services
from stock.models import StockItem

from ..models import CustodySettings, Discrepancy, TransferItem
from .common import (
    Event,
    State,
    Status,
    append_received,
    locked_transfer,
    parse_weight,
    refresh_transfer_status,
)


def _weight_settle(*, actor, item: StockItem, weight_kg: Decimal, reason: str) -> None:
    stock_services.correction_submit(
        actor=actor,
        item=item,
        changes={"weight_kg": weight_kg},
        reason=reason,
        # Settling a discrepancy is itself the decision an approval would be:
        # taken by someone holding custody.resolve_discrepancy (an SMS
        # administrator), on what the receipt recorded, with a note. It
        # applies at once (also where the country wants corrections approved)
        # so the transfer is never closed with its item's weight left open;
        # the change is in the item's history, and the discrepancy_resolved
        # ledger entry below carries the old and new weight.
        approval=stock_services.Approval.DECIDED,
    )


def _line_settle(line: TransferItem, **values) -> None:
    for name, value in values.items():
        setattr(line, name, value)
    line.save(update_fields=list(values))


@transaction.atomic(durable=True)
def discrepancy_resolve(
    *, actor, discrepancy: Discrepancy, resolution: str, note: str, weight_kg=None
) -> Discrepancy:
    """An administrator settles a discrepancy, with a note.

    weight: accept the received weight (the item's weight changes, recorded as
    a correction) or keep the recorded one; seal: accepted after inquiry;
    missing item: declare it missing, or found (received at the destination,
    with its weight if re-measured, also recorded as a correction)."""
    require(actor, "custody.resolve_discrepancy")
    discrepancy = Discrepancy.objects.select_for_update().get(pk=discrepancy.pk)
    transfer = locked_transfer(actor=actor, transfer=discrepancy.transfer)
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
        found_weight = parse_weight(weight_kg, field="weight_kg", errors=errors, required=False)
    raise_errors(errors)

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
        _weight_settle(
            actor=actor,
            item=item,
            weight_kg=new,
            reason=_("Weight at receipt of transfer %(reference)s: %(note)s")
            % {"reference": transfer.reference, "note": note},
        )
        payload.update(old_weight=old, new_weight=new)
    elif resolution == R.MARK_MISSING:
        _line_settle(line, state=State.LOST, open=False)
        stock_services.item_move(item=item, status=Status.MISSING)
        payload.update(status=Status.MISSING)
    elif resolution == R.FOUND:
        line.state, line.open = State.RECEIVED, False
        line.present = True
        line.weight_received = found_weight or line.weight_dispatched
        line.received_by, line.received_at = actor, timezone.now()
        line.save()
        stock_services.item_move(item=item, site=transfer.destination, status=Status.IN_STOCK)
        if found_weight is not None and found_weight != item.weight_kg:
            _weight_settle(
                actor=actor,
                item=item,
                weight_kg=found_weight,
                reason=_("Weight when found, transfer %(reference)s: %(note)s")
                % {"reference": transfer.reference, "note": note},
            )
        site = transfer.destination_id
        # Only a weight someone weighed: the item row's own weight is never
        # copied into a signed entry (a value changed in the database behind
        # the ledger's back would be signed as if recorded; stock.ledger_check).
        payload.update(status=Status.IN_STOCK, weight_kg=found_weight)
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
        append_received(actor=actor, transfer=transfer, line=line, found_later=True)
    refresh_transfer_status(transfer)
    return discrepancy


@transaction.atomic(durable=True)
def settings_update(*, actor, transfer_weight_tolerance_percent) -> CustodySettings:
    require(actor, "custody.resolve_discrepancy")
    errors: dict[str, list[str]] = {}
    try:
        value = parse_decimal(transfer_weight_tolerance_percent)
    except ValueError:
        value = None
    if value is None or value < 0 or value > 100:
        errors["transfer_weight_tolerance_percent"] = [_("Enter a percentage from 0 to 100.")]
    raise_errors(errors)
    row = CustodySettings.objects.select_for_update().get_or_create(pk=1)[0]
    row.transfer_weight_tolerance_percent = value.quantize(Decimal("0.01"))
    row.save()
    return row
