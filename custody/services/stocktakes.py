"""Stock-takes (country schema): open one for a site, check each expected
item, register items found without a record, sign off.

A re-weigh during a stock-take is a finding of the stock-take, not a
correction: it is kept on the line (``weight_measured``), in the ledger's
``stocktake_checked`` entry and in the report's weight differences, and the
item keeps its registered weight. Counters may be auditors, whose role
changes nothing in the register; a store manager who finds the register
wrong corrects it through stock's correction path (which waits for approval
where the country wants corrections approved). Missing and found-again items
change status at sign-off through stock.services.item_move.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.permissions import require
from core.errors import raise_errors
from core.text import text_errors
from ledger import chain as ledger
from stock import services as stock_services
from stock.marks import normalise_mark
from stock.models import ItemType, Site, StockItem
from stock.scope import can_see_site

from ..models import StockTake, StockTakeLine
from .common import Event, Status, parse_weight

RUN_STOCKTAKE = "custody.run_stocktake"


def _locked_stocktake(*, actor, stocktake: StockTake) -> StockTake:
    locked = StockTake.objects.select_for_update().select_related("site").get(pk=stocktake.pk)
    if not can_see_site(actor, locked.site):
        raise Http404
    return locked


def _require_open(stocktake: StockTake) -> None:
    if stocktake.status != StockTake.Status.OPEN:
        raise ValidationError({NON_FIELD_ERRORS: [_("This stock-take is signed off.")]})


# Not durable: the form's one-time token is spent in the same transaction
# (stock.submissions.create_once), so a double post creates one.
@transaction.atomic
def stocktake_open(*, actor, site: Site, notes: str = "") -> StockTake:
    """Open a stock-take of ``site``: the items expected there (in stock, or
    recorded missing) are listed now and the list no longer changes."""
    require(actor, RUN_STOCKTAKE)
    if site is None or not can_see_site(actor, site):
        raise ValidationError({"site": [_("You may only count the stock of your own sites.")]})
    if StockTake.objects.filter(site=site, status=StockTake.Status.OPEN).exists():
        raise ValidationError({"site": [_("A stock-take of this site is already open.")]})
    raise_errors(text_errors(StockTake, notes=notes))
    try:
        with transaction.atomic():
            stocktake = StockTake.objects.create(
                site=site, notes=(notes or "").strip(), opened_by=actor
            )
    except IntegrityError:
        raise ValidationError({"site": [_("A stock-take of this site is already open.")]}) from None
    # In SMS-number order: the lines' ids then follow it, and the page lists by id.
    expected = (
        StockItem.objects.filter(site=site, status__in=[Status.IN_STOCK, Status.MISSING])
        .order_by("sms_number")
        .values_list("pk", "status", "weight_kg")
    )
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


# Not durable: the ODK sync records checks made in Collect inside its own
# transaction (one per submission).
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
    fix a mistake until sign-off; each check is in the ledger). A weight is
    recorded on the line, never on the item (see the module's docstring)."""
    require(actor, RUN_STOCKTAKE)
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
        measured = parse_weight(weight_kg, field="weight_kg", errors=errors, required=False)
    errors.update(text_errors(StockTakeLine, note=note))
    raise_errors(errors)
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
    _append_checked(actor=actor, stocktake=stocktake, line=line)
    return line


def _append_checked(*, actor, stocktake: StockTake, line: StockTakeLine) -> None:
    """The ledger entry of a line just checked: its result, weights and note."""
    ledger.append(
        event=Event.STOCKTAKE_CHECKED,
        actor=actor,
        site=stocktake.site_id,
        item=line.item_id,
        stocktake=stocktake,
        payload={
            "stocktake": stocktake.reference,
            "result": line.result,
            "expected_weight": line.expected_weight,
            "weight_measured": line.weight_measured,
            "note": line.note,
        },
    )


@dataclass
class ScanResult:
    """What a scanned or typed number gave: ``outcome`` is one of
    FOUND (checked found now), ALREADY (checked before: nothing changed),
    NOT_LISTED (no line of this stock-take has that number or mark);
    ``line`` the stock-take line (None when not listed)."""

    FOUND = "found"
    ALREADY = "already"
    NOT_LISTED = "not_listed"

    outcome: str
    number: str
    line: StockTakeLine | None = None


def _line_by_number(stocktake: StockTake, number: str) -> StockTakeLine | None:
    lines = StockTakeLine.objects.select_related("item__item_type__category", "checked_by")
    line = lines.filter(stocktake=stocktake, item__sms_number=number.upper()).first()
    if line is None and normalise_mark(number):
        # A label may carry the CITES mark rather than the SMS number.
        line = lines.filter(stocktake=stocktake, item__cites_mark=normalise_mark(number)).first()
    return line


@transaction.atomic
def stocktake_scan(*, actor, stocktake: StockTake, number: str) -> ScanResult:
    """One scanned or typed SMS number (or CITES mark): the expected item with
    that number is checked *found* (``stocktake_check``); one already checked
    is left as it is (a second scan changes nothing); a number not on the
    list is said so. Blank input is a ValidationError on ``number``."""
    require(actor, RUN_STOCKTAKE)
    stocktake = _locked_stocktake(actor=actor, stocktake=stocktake)
    _require_open(stocktake)
    number = " ".join((number or "").split())
    if not number:
        raise ValidationError({"number": [_("Scan a label or type an SMS number.")]})
    if len(number) > 64:
        raise ValidationError({"number": [_("This is not an SMS number.")]})
    line = _line_by_number(stocktake, number)
    if line is None or not line.expected:
        outcome = ScanResult.NOT_LISTED if line is None else ScanResult.ALREADY
        return ScanResult(outcome=outcome, number=number, line=line)
    if line.result != StockTakeLine.Result.UNCHECKED:
        return ScanResult(outcome=ScanResult.ALREADY, number=number, line=line)
    line = stocktake_check(
        actor=actor, stocktake=stocktake, item=line.item, result=StockTakeLine.Result.FOUND
    )
    return ScanResult(outcome=ScanResult.FOUND, number=number, line=line)


@transaction.atomic
def stocktake_check_many(
    *, actor, stocktake: StockTake, items: Iterable, result: str
) -> list[StockTakeLine]:
    """The same result for many expected items at once (ticked in the list):
    each checked through ``stocktake_check``, in one transaction — all or
    nothing."""
    require(actor, RUN_STOCKTAKE)
    stocktake = _locked_stocktake(actor=actor, stocktake=stocktake)
    _require_open(stocktake)
    item_ids = list(dict.fromkeys(str(getattr(i, "pk", i)) for i in items))
    if not item_ids:
        raise ValidationError({"items": [_("Tick at least one item.")]})
    R = StockTakeLine.Result
    if result not in (R.FOUND, R.DAMAGED, R.MISSING):
        raise ValidationError({"result": [_("Choose found, damaged or missing.")]})
    try:
        listed = set(
            str(pk)
            for pk in StockTakeLine.objects.filter(
                stocktake=stocktake, expected=True, item_id__in=item_ids
            ).values_list("item_id", flat=True)
        )
    except (ValueError, ValidationError):
        listed = set()
    if listed != set(item_ids):
        raise ValidationError({"items": [_("Some of the ticked items are not on this list.")]})
    return _check_lines(actor=actor, stocktake=stocktake, item_ids=item_ids, result=result)


def _check_lines(*, actor, stocktake: StockTake, item_ids: list, result: str) -> list:
    """``stocktake_check`` without weight, note or photo for many expected
    items of ``stocktake`` (locked and open): the lines in one UPDATE, their
    ledger entries in one INSERT (ledger.batched), in the order given."""
    lines = {
        str(line.item_id): line
        for line in StockTakeLine.objects.select_for_update()
        .select_related("item")
        .filter(stocktake=stocktake, item_id__in=item_ids)
    }
    lines = [lines[str(item_id)] for item_id in item_ids]
    now = timezone.now()
    for line in lines:
        line.result, line.weight_measured, line.note = result, None, ""
        line.checked_by, line.checked_at = actor, now
    StockTakeLine.objects.bulk_update(
        lines, ["result", "weight_measured", "note", "checked_by", "checked_at"], batch_size=1000
    )
    with ledger.batched():
        for line in lines:
            _append_checked(actor=actor, stocktake=stocktake, line=line)
    return lines


@transaction.atomic
def stocktake_check_rest(*, actor, stocktake: StockTake, confirm: int | None) -> int:
    """ "All the rest found": every expected item not checked yet is checked
    *found*. ``confirm`` must name how many the page showed; when the count
    is not that any more (another counter, an ODK submission), nothing is
    recorded and the message says the new count. Returns how many."""
    require(actor, RUN_STOCKTAKE)
    stocktake = _locked_stocktake(actor=actor, stocktake=stocktake)
    _require_open(stocktake)
    rest = list(
        StockTakeLine.objects.filter(
            stocktake=stocktake, expected=True, result=StockTakeLine.Result.UNCHECKED
        )
        .order_by("id")
        .values_list("item_id", flat=True)
    )
    if not rest:
        raise ValidationError({"confirm_rest": [_("Every item is checked already.")]})
    if confirm is None:
        raise ValidationError(
            {
                "confirm_rest": [
                    ngettext(
                        "Confirm that the %(count)s item not checked yet was found.",
                        "Confirm that the %(count)s items not checked yet were found.",
                        len(rest),
                    )
                    % {"count": len(rest)}
                ]
            }
        )
    if confirm != len(rest):
        raise ValidationError(
            {
                "confirm_rest": [
                    _(
                        "The list changed since this page was shown: %(count)s items are not "
                        "checked now, not %(confirmed)s. Nothing was recorded; confirm again."
                    )
                    % {"count": len(rest), "confirmed": confirm}
                ]
            }
        )
    _check_lines(actor=actor, stocktake=stocktake, item_ids=rest, result=StockTakeLine.Result.FOUND)
    return len(rest)


# Not durable: the form's one-time token is spent in the same transaction
# (stock.submissions.create_once), so a double post creates one.
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
    require(actor, RUN_STOCKTAKE)
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


def _becomes_missing(*, stocktake: StockTake, line: StockTakeLine, item: StockItem) -> bool:
    """Whether sign-off records this expected item as missing (the rule
    selectors.stocktake_sign_off_preview counts with)."""
    R = StockTakeLine.Result
    return (
        item.site_id == stocktake.site_id
        and line.result in (R.UNCHECKED, R.MISSING)
        and item.status == Status.IN_STOCK
    )


def _sign_off_outcome(*, stocktake: StockTake, line: StockTakeLine, item: StockItem):
    """What sign-off makes of one expected item: its line's outcome, or None
    when nothing changes."""
    R, Outcome = StockTakeLine.Result, StockTakeLine.Outcome
    here = item.site_id == stocktake.site_id
    absent = line.result in (R.UNCHECKED, R.MISSING)
    if _becomes_missing(stocktake=stocktake, line=line, item=item):
        return Outcome.MARKED_MISSING
    if here and not absent and item.status == Status.MISSING:
        return Outcome.FOUND_AGAIN
    if not here or item.status not in (Status.IN_STOCK, Status.MISSING):
        return Outcome.MOVED
    return None


def _sign_off_lines(*, actor, stocktake: StockTake, lines: list, items: dict) -> None:
    """Settle the expected items at sign-off, whatever their number in a few
    statements: the items that become missing in one UPDATE, those found
    again in another, the lines' outcomes in one, the ledger's entries (in
    the lines' order) in one INSERT."""
    Outcome = StockTakeLine.Outcome
    changed, entries = [], []
    moves = {Outcome.MARKED_MISSING: [], Outcome.FOUND_AGAIN: []}
    for line in lines:
        item = items[line.item_id]
        outcome = _sign_off_outcome(stocktake=stocktake, line=line, item=item)
        if outcome is None:
            continue
        line.outcome = outcome
        changed.append(line)
        if outcome == Outcome.MARKED_MISSING:
            payload = {
                "stocktake": stocktake.reference,
                "result": line.result,
                "status": Status.MISSING,
            }
            event = Event.STOCKTAKE_MISSING
        elif outcome == Outcome.FOUND_AGAIN:
            payload = {"stocktake": stocktake.reference, "status": Status.IN_STOCK}
            event = Event.STOCKTAKE_FOUND
        else:
            continue
        moves[outcome].append(item)
        entries.append({"event": event, "item": item.pk, "payload": payload})
    stock_services.items_move(items=moves[Outcome.MARKED_MISSING], status=Status.MISSING)
    stock_services.items_move(items=moves[Outcome.FOUND_AGAIN], status=Status.IN_STOCK)
    StockTakeLine.objects.bulk_update(changed, ["outcome"], batch_size=1000)
    with ledger.batched():
        for entry in entries:
            ledger.append(actor=actor, site=stocktake.site_id, stocktake=stocktake, **entry)


@transaction.atomic(durable=True)
def stocktake_sign_off(
    *, actor, stocktake: StockTake, note: str = "", confirm_missing: int | None = None
) -> StockTake:
    """Close the stock-take. Expected items still unchecked or checked missing
    become "missing" (and show so on the dashboard); items recorded missing
    before and found now are back in stock. Items that left the site in the
    meantime (a transfer) are left alone.

    When any item would become missing, ``confirm_missing`` must name how
    many: one click once recorded a whole store as missing, and a page
    shown before other checks (or ODK submissions) must not sign off more
    than it showed. Nothing becoming missing needs no confirmation."""
    require(actor, RUN_STOCKTAKE)
    stocktake = _locked_stocktake(actor=actor, stocktake=stocktake)
    _require_open(stocktake)
    for message in text_errors(StockTake, sign_off_note=note).get("sign_off_note", []):
        raise ValidationError({"note": [message]})
    lines = list(stocktake.lines.filter(expected=True).select_for_update().order_by("item_id"))
    items = {
        i.pk: i
        for i in StockItem.objects.select_for_update().filter(pk__in=[ln.item_id for ln in lines])
    }
    becoming_missing = sum(
        1
        for line in lines
        if _becomes_missing(stocktake=stocktake, line=line, item=items[line.item_id])
    )
    if becoming_missing and confirm_missing is None:
        raise ValidationError(
            {
                "confirm_missing": [
                    ngettext(
                        "Confirm that %(count)s item will be recorded as missing.",
                        "Confirm that %(count)s items will be recorded as missing.",
                        becoming_missing,
                    )
                    % {"count": becoming_missing}
                ]
            }
        )
    if confirm_missing is not None and confirm_missing != becoming_missing:
        raise ValidationError(
            {
                "confirm_missing": [
                    _(
                        "The list changed since this page was shown: %(count)s items would "
                        "now be recorded as missing, not %(confirmed)s. Check the list and "
                        "confirm again."
                    )
                    % {"count": becoming_missing, "confirmed": confirm_missing}
                ]
            }
        )
    _sign_off_lines(actor=actor, stocktake=stocktake, lines=lines, items=items)
    stocktake.status = StockTake.Status.SIGNED_OFF
    stocktake.signed_off_by = actor
    stocktake.signed_off_at = timezone.now()
    stocktake.sign_off_note = (note or "").strip()
    stocktake.save()
    return stocktake
