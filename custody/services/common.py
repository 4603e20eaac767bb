"""What custody's services share (country schema): the settings row, the
weights people type, the locked transfer in scope and its status."""

from decimal import Decimal

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.decimals import parse_decimal
from ledger import chain as ledger
from stock.models import StockItem
from stock.scope import can_see_site

from ..models import CustodySettings, Transfer, TransferItem

Event = ledger.Event
Status = StockItem.Status
State = TransferItem.State
WEIGHT_PLACES = Decimal("0.001")


def custody_settings() -> CustodySettings:
    settings_row, _created = CustodySettings.objects.get_or_create(pk=1)
    return settings_row


def parse_weight(raw, *, field: str, errors: dict, required: bool = True) -> Decimal | None:
    """A weight typed in kilograms (decimal comma accepted), to the gram; a
    message in ``errors[field]`` and None when it is not one."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            errors[field] = [_("Enter the weight in kilograms.")]
        return None
    try:
        value = parse_decimal(raw).quantize(WEIGHT_PLACES)
    except (ArithmeticError, ValueError):
        errors[field] = [_("Enter a number of kilograms, e.g. 12.345.")]
        return None
    if value <= 0:
        errors[field] = [_("The weight must be more than 0 kg.")]
        return None
    return value


def locked_transfer(*, actor, transfer: Transfer) -> Transfer:
    """``transfer`` re-read and locked; Http404 unless the actor sees one of its ends."""
    locked = (
        Transfer.objects.select_for_update()
        .select_related("origin", "destination")
        .get(pk=transfer.pk)
    )
    if not (can_see_site(actor, locked.origin) or can_see_site(actor, locked.destination)):
        raise Http404
    return locked


def refresh_transfer_status(transfer: Transfer) -> None:
    """The transfer's status from its lines' states."""
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


def append_received(*, actor, transfer: Transfer, line: TransferItem, **details) -> None:
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
