"""Demo custody work for Demoland (country schema; the caller is on it).

So that the demo shows what daily work looks like, after the demo stock is
registered: a signed stock-take of the capital's strongroom (one item found
damaged, one not found: now recorded missing), transfers in each state — a
draft, one in transit, one received as dispatched, one received with a
missing item and a weight beyond tolerance (discrepancies for an
administrator to resolve) — and, last, an open stock-take of the northern
store, part-way through.

Everything goes through custody.services as the demo store managers, so the
ledger, the totals and the access rules are those of real work; each service
is its own (durable) transaction, so this runs outside any other. Does
nothing when the country already has a transfer or a stock-take
(``demo_setup`` runs at every start): a run that failed half-way is not
completed by the next one.
"""

from decimal import Decimal

from accounts.models import User
from stock.models import Site, StockItem

from .models import StockTake, StockTakeLine, Transfer
from .services import (
    ReceiptCheck,
    stocktake_check,
    stocktake_check_many,
    stocktake_check_rest,
    stocktake_open,
    stocktake_sign_off,
    transfer_create,
    transfer_dispatch,
    transfer_receive,
)

CAPITAL, NORTH, COAST = "hq-strongroom", "north-store", "coast-store"
AUTHORITY = "Director of Wildlife, letter DW/{n}/2026"


def _user(username: str) -> User:
    return User.objects.get(username=username)  # fresh: no stale permission cache


def _in_stock(site: Site, count: int, *, skip=()) -> list[StockItem]:
    return list(
        StockItem.objects.filter(site=site, status=StockItem.Status.IN_STOCK)
        .exclude(pk__in=[i.pk for i in skip])
        .order_by("sms_number")[:count]
    )


def _send(*, actor, origin, destination, items, n, reason) -> Transfer:
    transfer = transfer_create(
        actor=actor,
        origin=origin,
        destination=destination,
        items=items,
        reason=reason,
        authority_reference=AUTHORITY.format(n=n),
    )
    return transfer


def _dispatch(*, actor, transfer, n) -> Transfer:
    return transfer_dispatch(
        actor=actor,
        transfer=transfer,
        seal_numbers=f"S-{n:03d}1, S-{n:03d}2",
        courier="Wildlife Service convoy",
        vehicle=f"GK {400 + n} W",
        dispatching_officer="Sgt. P. Njoroge",
    )


def seed_demo_custody(
    *, capital_manager: str = "store.capital", north_manager: str = "store.north"
) -> bool:
    """Returns whether anything was created."""
    if Transfer.objects.exists() or StockTake.objects.exists():
        return False
    sites = {s.code: s for s in Site.objects.filter(code__in=[CAPITAL, NORTH, COAST])}
    if len(sites) < 3:
        return False
    capital, north, coast = sites[CAPITAL], sites[NORTH], sites[COAST]
    by_capital, by_north = _user(capital_manager), _user(north_manager)

    # 1. A signed stock-take of the strongroom: everything found but two.
    count = stocktake_open(actor=by_capital, site=capital, notes="Quarterly count, Q3")
    lines = list(count.lines.filter(expected=True).select_related("item").order_by("id"))
    if len(lines) >= 3:
        stocktake_check(
            actor=by_capital,
            stocktake=count,
            item=lines[0].item,
            result=StockTakeLine.Result.DAMAGED,
            note="Tip cracked; photographed.",
        )
        stocktake_check(
            actor=by_capital,
            stocktake=count,
            item=lines[1].item,
            result=StockTakeLine.Result.MISSING,
            note="Not on its shelf; search ordered.",
        )
        rest = count.lines.filter(expected=True, result=StockTakeLine.Result.UNCHECKED).count()
        stocktake_check_rest(actor=by_capital, stocktake=count, confirm=rest)
    stocktake_sign_off(
        actor=by_capital,
        stocktake=count,
        note="Counted by the custodian and two wardens.",
        confirm_missing=1 if len(lines) >= 3 else None,
    )

    # 2. Transfers, one in each state.
    draft_items = _in_stock(capital, 3)
    _send(
        actor=by_capital,
        origin=capital,
        destination=coast,
        items=draft_items,
        n=11,
        reason="Evidence for the coast court case",
    )
    transit_items = _in_stock(capital, 4, skip=draft_items)
    _dispatch(
        actor=by_capital,
        transfer=_send(
            actor=by_capital,
            origin=capital,
            destination=north,
            items=transit_items,
            n=12,
            reason="Regional training collection",
        ),
        n=12,
    )
    received_items = _in_stock(north, 3)
    received = _dispatch(
        actor=by_north,
        transfer=_send(
            actor=by_north,
            origin=north,
            destination=capital,
            items=received_items,
            n=13,
            reason="Consolidation in the national strongroom",
        ),
        n=13,
    )
    transfer_receive(
        actor=by_capital,
        transfer=received,
        checks=[
            ReceiptCheck(item_id=i.pk, present=True, as_dispatched=True) for i in received_items
        ],
    )
    odd_items = _in_stock(capital, 4, skip=[*draft_items, *transit_items, *received_items])
    odd = _dispatch(
        actor=by_capital,
        transfer=_send(
            actor=by_capital,
            origin=capital,
            destination=north,
            items=odd_items,
            n=14,
            reason="Exhibits for the northern court",
        ),
        n=14,
    )
    checks = [ReceiptCheck(item_id=i.pk, present=True, as_dispatched=True) for i in odd_items]
    if len(odd_items) >= 2:
        # One item did not arrive; another weighs a tenth less than dispatched.
        checks[0] = ReceiptCheck(item_id=odd_items[0].pk, present=False, note="Not in the crate.")
        lighter = (odd_items[1].weight_kg * Decimal("0.9")).quantize(Decimal("0.001"))
        checks[1] = ReceiptCheck(
            item_id=odd_items[1].pk, present=True, weight_kg=lighter, note="Weighed on arrival."
        )
    transfer_receive(actor=by_north, transfer=odd, checks=checks)

    # 3. An open stock-take of the northern store, part-way through.
    open_count = stocktake_open(actor=by_north, site=north, notes="Annual count")
    first = list(
        open_count.lines.filter(expected=True).order_by("id").values_list("item_id", flat=True)[:10]
    )
    if first:
        stocktake_check_many(
            actor=by_north,
            stocktake=open_count,
            items=first,
            result=StockTakeLine.Result.FOUND,
        )
    return True
