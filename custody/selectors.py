"""Custody reads (country schema). The site scope comes from stock.scope:
a transfer is visible to users of its origin or of its destination; a
stock-take to users of its site; an object outside the scope is Http404.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.permissions import may
from ledger import chain as ledger
from ledger import checkpoints, signing
from ledger.models import LedgerEntry
from stock.models import ItemType, Site, StockItem
from stock.scope import can_see_site, restrict_to_scope, visible_sites

from .filters import TransferFilterSet
from .models import (
    Discrepancy,
    StockTake,
    StockTakeLine,
    Transfer,
    TransferItem,
)


def _visible_transfers(user) -> QuerySet:
    return restrict_to_scope(Transfer.objects.all(), user, site_field=("origin", "destination"))


def transfer_filter(*, user, data=None) -> TransferFilterSet:
    """The transfer list's filters bound to ``data`` (status, site: from or
    to that store), over the transfers from or to the user's sites, newest first."""
    queryset = (
        _visible_transfers(user)
        .select_related("origin", "destination", "created_by")
        .annotate(
            item_count=Count("lines", distinct=True),
            open_discrepancies=Count(
                "discrepancies", filter=Q(discrepancies__resolved_at=None), distinct=True
            ),
        )
        .order_by("-created_at", "-id")
    )
    return TransferFilterSet(data if data is not None else {}, queryset=queryset, user=user)


def transfer_list(*, user, filters=None) -> QuerySet:
    """Transfers from or to the user's sites that pass ``filters``, newest first."""
    return transfer_filter(user=user, data=filters).qs


def transfer_get(*, user, transfer_id) -> Transfer:
    try:
        return (
            _visible_transfers(user)
            .select_related("origin", "destination", "created_by", "dispatched_by", "cancelled_by")
            .get(pk=transfer_id)
        )
    except (Transfer.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404 from exc


def transfer_lines(*, transfer: Transfer) -> list[TransferItem]:
    """The transfer's items with what is needed to show them (the caller got
    ``transfer`` through transfer_get, which checked the scope)."""
    return list(
        transfer.lines.select_related("item__item_type__category", "received_by")
        .prefetch_related("item__photos")
        .order_by("item__sms_number")
    )


def transfer_receipts(lines: list[TransferItem]) -> list[dict]:
    """Who received the transfer's items and when, from its lines: one entry
    per receipt (a person at a moment) counting the items that arrived
    (not those reported missing), oldest first — {"who", "when", "count"}."""
    groups: dict = {}
    for line in lines:
        if line.received_at is None or not line.present:
            continue
        key = (line.received_by_id, line.received_at)
        who = line.received_by.display_name if line.received_by else "—"
        groups.setdefault(key, {"who": who, "when": line.received_at, "count": 0})["count"] += 1
    return sorted(groups.values(), key=lambda g: g["when"])


def items_for_transfer_numbers(*, user, site: Site, numbers: list[str]) -> tuple[dict, list]:
    """SMS numbers (or CITES marks) typed or scanned when preparing a transfer:
    ({number: item} for those that may be sent from ``site`` now, [numbers
    that can't])."""
    if not numbers:
        return {}, []
    upper = [n.upper() for n in numbers]
    candidates = items_for_transfer(user=user, site=site).filter(
        Q(sms_number__in=upper) | Q(cites_mark__in=upper)
    )
    by_key = {}
    for item in candidates:
        by_key[item.sms_number] = item
        if item.cites_mark:
            by_key[item.cites_mark.upper()] = item
    found = {n: by_key[n] for n in upper if n in by_key}
    return found, [n for n in upper if n not in by_key]


def transfer_discrepancies(*, transfer: Transfer) -> list[Discrepancy]:
    return list(
        transfer.discrepancies.select_related("item", "raised_by", "resolved_by").order_by(
            "raised_at", "id"
        )
    )


def items_for_transfer(*, user, site: Site) -> QuerySet:
    """Items in stock at ``site`` (in the user's scope) that no open transfer holds."""
    return (
        restrict_to_scope(StockItem.objects.filter(site=site, status="in_stock"), user)
        .exclude(transfer_lines__open=True)
        .select_related("item_type__category")
        .order_by("sms_number")
    )


def sites_for_dispatch(*, user) -> QuerySet:
    if not may(user, "custody.dispatch_transfer"):
        return Site.objects.none()
    return visible_sites(user).filter(active=True)


def site_choice(sites: QuerySet, value) -> Site | None:
    """The site of ``sites`` whose id is ``value`` (as a query string gives it), else None."""
    try:
        return sites.filter(pk=int(value)).first() if value else None
    except (TypeError, ValueError):
        return None


def destinations() -> QuerySet:
    # Any active site of the country can receive; the receiving side's users act there.
    return Site.objects.filter(active=True)


def discrepancy_list(*, user, open_only: bool = True) -> QuerySet:
    queryset = Discrepancy.objects.filter(transfer__in=_visible_transfers(user).values("pk"))
    if open_only:
        queryset = queryset.filter(resolved_at=None)
    return queryset.select_related(
        "transfer__origin", "transfer__destination", "item", "raised_by", "resolved_by"
    ).order_by("raised_at", "id")


def discrepancy_get(*, user, discrepancy_id) -> Discrepancy:
    try:
        return discrepancy_list(user=user, open_only=False).get(pk=discrepancy_id)
    except (Discrepancy.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404 from exc


# --- Stock-takes ---------------------------------------------------------------------


def stocktake_list(*, user) -> QuerySet:
    return (
        restrict_to_scope(StockTake.objects.all(), user)
        .select_related("site", "opened_by", "signed_off_by")
        .annotate(line_count=Count("lines"))
        .order_by("-opened_at", "-id")
    )


def stocktake_get(*, user, stocktake_id) -> StockTake:
    try:
        return (
            restrict_to_scope(StockTake.objects.all(), user)
            .select_related("site", "opened_by", "signed_off_by")
            .get(pk=stocktake_id)
        )
    except (StockTake.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404 from exc


def sites_for_stocktake(*, user) -> QuerySet:
    if not may(user, "custody.run_stocktake"):
        return Site.objects.none()
    return visible_sites(user).filter(active=True)


def stocktake_lines(*, stocktake: StockTake) -> list[StockTakeLine]:
    return list(
        stocktake.lines.select_related("item__item_type__category", "checked_by").order_by(
            "-expected", "item__sms_number"
        )
    )


# The stock-take page's filters of its list (``?show=``), in the order of its tabs.
STOCKTAKE_SHOW = ("all", "unchecked", "found", "damaged", "missing", "added")


def stocktake_line_page_query(*, stocktake: StockTake, show: str = "all", q: str = "") -> QuerySet:
    """The stock-take's lines for its page's table, in list order (the lines'
    ids follow the SMS numbers: services.stocktake_open), narrowed to one
    state (``show``: one of STOCKTAKE_SHOW) and to a piece of an SMS number or
    CITES mark (``q``). The caller got ``stocktake`` through stocktake_get."""
    R = StockTakeLine.Result
    queryset = stocktake.lines.select_related("item__item_type__category", "checked_by")
    if show == "added":
        queryset = queryset.filter(expected=False)
    elif show in (R.UNCHECKED, R.FOUND, R.DAMAGED, R.MISSING):
        queryset = queryset.filter(expected=True, result=show)
    q = " ".join((q or "").split())
    if q:
        queryset = queryset.filter(
            Q(item__sms_number__icontains=q) | Q(item__cites_mark__icontains=q)
        )
    return queryset.order_by("id")


def stocktake_line_get(*, stocktake: StockTake, item_id) -> StockTakeLine:
    """One line of the stock-take (the caller got ``stocktake`` through
    stocktake_get), else Http404."""
    try:
        return stocktake.lines.select_related("item__item_type__category", "checked_by").get(
            item_id=item_id
        )
    except (StockTakeLine.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404 from exc


def stocktake_counts(*, stocktake: StockTake) -> dict:
    """How many lines each tab of the page lists: {"all": n, "unchecked": n, …}."""
    R = StockTakeLine.Result
    row = stocktake.lines.aggregate(
        all=Count("id"),
        added=Count("id", filter=Q(expected=False)),
        **{
            state: Count("id", filter=Q(expected=True, result=state))
            for state in (R.UNCHECKED, R.FOUND, R.DAMAGED, R.MISSING)
        },
    )
    return {key: row[key] or 0 for key in STOCKTAKE_SHOW}


def stocktake_found_weight(*, stocktake: StockTake) -> Decimal:
    """The weight of the expected items found (damaged included), re-weighed
    or as expected: the report's "found" weight, for the page's figures
    after each scan."""
    R = StockTakeLine.Result
    total = stocktake.lines.filter(expected=True, result__in=[R.FOUND, R.DAMAGED]).aggregate(
        weight=Sum(Coalesce("weight_measured", "expected_weight"))
    )["weight"]
    return total or Decimal("0.000")


def stocktake_report(*, stocktake: StockTake, lines: list[StockTakeLine] | None = None) -> dict:
    """Expected vs found, weight differences and additions (``lines``: the
    stock-take's lines when the caller already has them)."""
    if lines is None:
        lines = stocktake_lines(stocktake=stocktake)
    R = StockTakeLine.Result
    expected = [ln for ln in lines if ln.expected]
    report = {
        "expected": len(expected),
        "found": sum(1 for ln in expected if ln.result == R.FOUND),
        "damaged": [ln for ln in expected if ln.result == R.DAMAGED],
        "missing": [ln for ln in expected if ln.result == R.MISSING],
        "unchecked": [ln for ln in expected if ln.result == R.UNCHECKED],
        "added": [ln for ln in lines if not ln.expected],
        "weight_differences": [
            ln
            for ln in expected
            if ln.weight_measured is not None and ln.weight_measured != ln.expected_weight
        ],
        "expected_weight": sum((ln.expected_weight for ln in expected), Decimal("0.000")),
        "found_weight": sum(
            (
                ln.weight_measured if ln.weight_measured is not None else ln.expected_weight
                for ln in expected
                if ln.result in (R.FOUND, R.DAMAGED)
            ),
            Decimal("0.000"),
        ),
    }
    report["found_count"] = report["found"] + len(report["damaged"])
    # Signed off: the items it recorded as missing (unchecked ones included).
    report["marked_missing"] = sum(
        1 for ln in expected if ln.outcome == StockTakeLine.Outcome.MARKED_MISSING
    )
    return report


def stocktake_sign_off_preview(*, user, stocktake: StockTake) -> dict:
    """What signing off would record as missing, now: the expected items not
    checked or checked missing that are still in stock at the site (the same
    rule as services.stocktake_sign_off, which refuses a confirmation naming
    another count). Http404 outside the user's scope.

    {"count": int, "weight_kg": Decimal, "unchecked": int,
     "by_type": [{"item_type": ItemType, "count": int, "weight_kg": Decimal}]}
    """
    if not can_see_site(user, stocktake.site):
        raise Http404
    R = StockTakeLine.Result
    lines = StockTakeLine.objects.filter(
        stocktake=stocktake,
        expected=True,
        result__in=[R.UNCHECKED, R.MISSING],
        item__site_id=stocktake.site_id,
        item__status=StockItem.Status.IN_STOCK,
    )
    rows = list(
        lines.values("item__item_type_id", "result")
        .annotate(count=Count("id"), weight_kg=Sum("item__weight_kg"))
        .order_by()
    )
    types = ItemType.objects.select_related("category").in_bulk(
        {row["item__item_type_id"] for row in rows}
    )
    by_type: dict[int, dict] = {}
    for row in rows:
        bucket = by_type.setdefault(
            row["item__item_type_id"],
            {
                "item_type": types[row["item__item_type_id"]],
                "count": 0,
                "weight_kg": Decimal("0.000"),
            },
        )
        bucket["count"] += row["count"]
        bucket["weight_kg"] += row["weight_kg"] or Decimal("0.000")
    ordered = sorted(
        by_type.values(),
        key=lambda b: (b["item_type"].category.order, b["item_type"].order, b["item_type"].code),
    )
    return {
        "count": sum(b["count"] for b in ordered),
        "weight_kg": sum((b["weight_kg"] for b in ordered), Decimal("0.000")),
        "unchecked": sum(row["count"] for row in rows if row["result"] == R.UNCHECKED),
        "by_type": ordered,
    }


# --- Ledger -------------------------------------------------------------------------


def _require_ledger_check(user) -> None:
    if not may(user, "custody.verify_ledger"):
        raise Http404


def ledger_verify(*, user) -> ledger.VerifyResult:
    """Check the whole chain of the country (auditors and administrators)."""
    _require_ledger_check(user)
    return ledger.verify_chain()


def ledger_key(*, user) -> dict:
    """The country's public ledger key, to compare with the one on documents."""
    _require_ledger_check(user)
    key = signing.public_key()
    return {
        "public_key": signing.public_key_text(key),
        "fingerprint": signing.fingerprint(key),
        "pem": signing.public_key_pem(key),
    }


def ledger_checkpoint(*, user):
    """A signed checkpoint of where the chain ends now (checkpoints.Checkpoint),
    or checkpoints.Unavailable when its end does not verify."""
    _require_ledger_check(user)
    return checkpoints.take_for_document()


def ledger_checkpoint_check(*, user, text: str) -> checkpoints.CheckpointResult:
    """Does the chain still contain the checkpoint in ``text``? A text that is
    no checkpoint is a ValidationError on ``checkpoint``."""
    _require_ledger_check(user)
    try:
        checkpoint = checkpoints.parse(text)
    except checkpoints.CheckpointInvalid as exc:
        raise ValidationError({"checkpoint": [str(exc)]}) from exc
    return checkpoints.check(checkpoint)


def ledger_recent(*, user, limit: int = 50) -> list[LedgerEntry]:
    _require_ledger_check(user)
    return list(LedgerEntry.objects.select_related("site", "item").order_by("-sequence")[:limit])


def transfer_actions(*, user, transfer: Transfer) -> dict:
    """What ``user`` may do with ``transfer`` now (which buttons to show)."""
    at_origin = can_see_site(user, transfer.origin)
    at_destination = can_see_site(user, transfer.destination)
    may_send = at_origin and may(user, "custody.dispatch_transfer")
    draft = transfer.status == Transfer.Status.DRAFT
    on_its_way = transfer.status in (
        Transfer.Status.DISPATCHED,
        Transfer.Status.PARTIALLY_RECEIVED,
    )
    return {
        "dispatch": may_send and draft,
        "cancel": may_send and draft,
        "receive": on_its_way and at_destination and may(user, "custody.receive_transfer"),
        "resolve": may(user, "custody.resolve_discrepancy"),
    }
