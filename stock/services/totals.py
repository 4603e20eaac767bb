"""The running totals behind the dashboards (StockTotal), and the one write
that moves an item for custody (country schema).

An item's contribution to StockTotal moves in the transaction that changes
the item, by an UPSERT that increments in the database, so concurrent writes
at one site never overwrite each other's counts.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from ..models import Site, StockItem


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


def item_move(*, item: StockItem, site: Site | None = None, status: str | None = None) -> StockItem:
    """Custody's write of an item: its site and/or status change (dispatch,
    receipt, declared missing, found in a stock-take), and its contribution to
    the totals moves with it.

    The caller (custody.services) has checked who may do it, holds ``item``
    locked (SELECT ... FOR UPDATE) in its transaction, and appends the custody
    ledger entry that says why the item moved; ``item`` is changed in place
    and returned. A weight change is a correction (stock.services.corrections),
    never a move.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("item_move must run inside the transaction that locked the item")
    if status is not None and status not in StockItem.Status.values:
        raise ValueError(f"unknown item status {status!r}")
    changes = {}
    if site is not None and item.site_id != site.pk:
        changes["site"] = site
    if status is not None and item.status != status:
        changes["status"] = status
    if not changes:
        return item
    before = TotalsKey.of(item)
    for name, value in changes.items():
        setattr(item, name, value)
    item.save(update_fields=[*changes, "updated_at"])
    totals_adjust(before=before, after=TotalsKey.of(item))
    return item


def items_move(
    *, items: list[StockItem], site: Site | None = None, status: str | None = None
) -> list[StockItem]:
    """``item_move`` for many items going to the same place and status (a
    whole transfer dispatched or received, a stock-take's missing items): one
    UPDATE of the items that change, and the totals moved by one UPSERT per
    (site, type, status) touched instead of two per item. Same contract as
    ``item_move``: the caller has checked who may do it, holds every item
    locked in its transaction, and appends the ledger entries; the items are
    changed in place and returned."""
    if not connection.in_atomic_block:
        raise RuntimeError("items_move must run inside the transaction that locked the items")
    if status is not None and status not in StockItem.Status.values:
        raise ValueError(f"unknown item status {status!r}")
    moving = [
        item
        for item in items
        if (site is not None and item.site_id != site.pk)
        or (status is not None and item.status != status)
    ]
    if not moving:
        return list(items)
    keys = []
    for item in moving:
        before = TotalsKey.of(item)
        if site is not None:
            item.site = site
        if status is not None:
            item.status = status
        keys.append((before, TotalsKey.of(item)))
    now = timezone.now()
    changes = {"updated_at": now}
    if site is not None:
        changes["site"] = site
    if status is not None:
        changes["status"] = status
    StockItem.objects.filter(pk__in=[item.pk for item in moving]).update(**changes)
    for item in moving:
        item.updated_at = now
    _totals_apply(keys)
    return list(items)


def _totals_apply(moves: list[tuple[TotalsKey | None, TotalsKey | None]]) -> None:
    """Many items' contributions moved from ``before`` to ``after``: summed per
    (site, type, status) first, one UPSERT per group that changes."""
    groups: dict[tuple, list] = {}
    for before, after in moves:
        if before == after:
            continue
        for key, sign in ((before, -1), (after, 1)):
            if key is None:
                continue
            group = groups.setdefault(
                (key.site_id, key.item_type_id, key.status), [0, 0, Decimal(0)]
            )
            group[0] += sign
            group[1] += sign * key.pieces
            group[2] += sign * Decimal(key.weight_kg)
    with connection.cursor() as cursor:
        for (site_id, item_type_id, status), (count, pieces, weight) in sorted(groups.items()):
            if count == 0 and pieces == 0 and weight == 0:
                continue
            cursor.execute(
                "INSERT INTO stock_stocktotal"
                " (site_id, item_type_id, status, items, pieces, weight_kg)"
                " VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT ON CONSTRAINT stock_total_unique DO UPDATE SET"
                " items = stock_stocktotal.items + EXCLUDED.items,"
                " pieces = stock_stocktotal.pieces + EXCLUDED.pieces,"
                " weight_kg = stock_stocktotal.weight_kg + EXCLUDED.weight_kg",
                [site_id, item_type_id, status, count, pieces, weight],
            )


def totals_add_many(keys: list[TotalsKey]) -> None:
    """Add many new items' contributions (a batch of registrations): summed
    per (site, type, status) first, one UPSERT per group."""
    _totals_apply([(None, key) for key in keys])
