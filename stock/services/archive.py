"""Taking an item out of the stock for good (country schema): needs
``stock.archive_item`` and the item's site in scope.

The archive date agrees with the custody record: an item in transit can't be
archived (it is received, or found missing, first), and the date can't
precede the item's last custody event in the ledger (a dispatch, a receipt,
a discrepancy, a stock-take), so no declaration shows an item leaving the
stock before it last moved."""

import datetime
from collections.abc import Iterable

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require
from core.errors import raise_errors
from core.text import text_errors
from ledger import chain as ledger
from ledger.models import LedgerEntry

from ..models import ArchiveRecord, StockItem
from ..scope import can_see_site
from .common import locked_item_in_scope
from .totals import TotalsKey, totals_adjust


def _archive_errors(
    *,
    item: StockItem,
    reason: str,
    archived_on,
    authority_reference: str,
    destruction_method: str,
    witnesses: str,
    incident_reference: str,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    Reason = ArchiveRecord.Reason
    if reason not in Reason.values:
        errors["reason"] = [_("Choose a reason from the list.")]
    last_event = _last_custody_event(item)
    if item.status == StockItem.Status.IN_TRANSIT:
        errors[NON_FIELD_ERRORS] = [
            _("This item is in transit: archive it once it is received (or recorded missing).")
        ]
    if not isinstance(archived_on, datetime.date):
        errors["archived_on"] = [_("Enter the date.")]
    elif archived_on > timezone.localdate():
        errors["archived_on"] = [_("This date is in the future.")]
    elif archived_on < item.received_on:
        errors["archived_on"] = [_("The item cannot leave the store before it was received.")]
    elif last_event is not None and archived_on < last_event[1]:
        errors["archived_on"] = [
            _(
                "The item's last custody event (%(event)s) is dated %(date)s: the archive "
                "date can't be earlier."
            )
            % {"event": last_event[0], "date": last_event[1].isoformat()}
        ]
    if not authority_reference:
        errors["authority_reference"] = [_("Give the reference of the authorising decision.")]
    if reason == Reason.DESTROYED:
        if not destruction_method:
            errors["destruction_method"] = [_("Say how the item was destroyed.")]
        if not witnesses:
            errors["witnesses"] = [_("Name the witnesses of the destruction.")]
    if reason == Reason.LOST_STOLEN and not incident_reference:
        errors["incident_reference"] = [_("Give the incident or police report reference.")]
    return errors


def archive_check_new(
    *,
    received_on,
    reason: str,
    archived_on,
    authority_reference: str,
    destruction_method: str = "",
    witnesses: str = "",
    incident_reference: str = "",
    notes: str = "",
) -> dict[str, list[str]]:
    """The errors ``item_archive`` would give for an item not registered yet
    (received on ``received_on``, no custody event): the register import's
    dry run of an item its old register holds as archived."""
    if received_on is None and isinstance(archived_on, datetime.date):
        received_on = archived_on  # the date received has its own error
    item = StockItem(status=StockItem.Status.IN_STOCK, received_on=received_on)
    item.pk = None
    errors = _archive_errors(
        item=item,
        reason=reason,
        archived_on=archived_on,
        authority_reference=(authority_reference or "").strip(),
        destruction_method=destruction_method.strip(),
        witnesses=witnesses.strip(),
        incident_reference=incident_reference.strip(),
    )
    for name, messages in text_errors(
        ArchiveRecord,
        authority_reference=(authority_reference or "").strip(),
        destruction_method=destruction_method.strip(),
        witnesses=witnesses.strip(),
        incident_reference=incident_reference.strip(),
        notes=notes,
    ).items():
        errors.setdefault(name, messages)
    return errors


# The custody events: what happened to the piece, not to its record
# (registration and corrections are data entry, dated when typed).
CUSTODY_EVENTS = (
    LedgerEntry.Event.DISPATCHED,
    LedgerEntry.Event.RECEIVED,
    LedgerEntry.Event.DISCREPANCY,
    LedgerEntry.Event.DISCREPANCY_RESOLVED,
    LedgerEntry.Event.STOCKTAKE_CHECKED,
    LedgerEntry.Event.STOCKTAKE_MISSING,
    LedgerEntry.Event.STOCKTAKE_FOUND,
)


def _last_custody_event(item: StockItem):
    """(what, the day in the country's time zone) of the item's last custody
    event in the ledger, or None."""
    if item.pk is None:
        return None
    entry = (
        LedgerEntry.objects.filter(item_id=item.pk, event__in=CUSTODY_EVENTS)
        .order_by("-sequence")
        .only("event", "occurred_at")
        .first()
    )
    if entry is None:
        return None
    what = str(LedgerEntry.Event(entry.event).label)
    return what, timezone.localdate(entry.occurred_at)


# Not durable: the demo setup archives items inside its own transaction.
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
    permission: str = "stock.archive_item",
) -> ArchiveRecord:
    """Take ``item`` out of the stock for good: status archived, one
    ArchiveRecord, and its weight and pieces leave the in-stock totals.
    ``permission``: the permission of the caller's path (the register import
    archives the items an old register holds as archived with its own,
    imports.import_register)."""
    require(actor, permission)
    item = locked_item_in_scope(actor=actor, item=item)
    if item.is_archived:
        raise ValidationError({NON_FIELD_ERRORS: [_("This item is already archived.")]})
    authority_reference = (authority_reference or "").strip()
    destruction_method, witnesses = destruction_method.strip(), witnesses.strip()
    incident_reference = incident_reference.strip()
    errors = _archive_errors(
        item=item,
        reason=reason,
        archived_on=archived_on,
        authority_reference=authority_reference,
        destruction_method=destruction_method,
        witnesses=witnesses,
        incident_reference=incident_reference,
    )
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
    raise_errors(errors)

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
