"""Stock figures computed from the custody ledger (country schema).

Every report figure — balances, movements, CITES year-end stocks, the
monthly chart series — comes from replaying the custody ledger
(custody.LedgerEntry), never from the items' current state alone, so a
figure for a past date reads the same tomorrow as today.

The event → balance mapping
---------------------------
Each item is replayed in ledger order. Its *state* is one of: held at a site,
held in transit (dispatched, not yet received), missing, gone (archived).
The *balance* (what the government holds) counts items held at a site or in
transit, with their pieces and weight at the time. Each entry moves the item
from one state to another; the difference is a *movement* on the line named:

==========================  ==========================================  ====================
ledger event                state change                                movement line
==========================  ==========================================  ====================
registered                  → held at the site, registered weight/pcs   + added (by source)
correction (weight/pieces)  weight/pieces → new value, same place       ± corrected
archived                    held → gone                                 − removed (by reason)
dispatched                  held at origin → in transit                 − transfer out / + in
received                    in transit → held at destination            − transfer out / + in
discrepancy_resolved        accept_new_weight: weight → received weight ± corrected
                            mark_missing: in transit → missing          − missing
                            found: weight → the weight found            ± corrected
stocktake_missing           held → missing                              − missing
stocktake_found             missing → held at the stock-take's site     + found
discrepancy, stocktake_     nothing (a record, not a change)            —
checked
==========================  ==========================================  ====================

"In transit" is a place of its own (``TRANSIT``): a transfer is out of the
origin when dispatched and into the destination when received. Only users
who see every site see the in-transit line.

Effective dates: a registration takes effect on the item's date received, an
archive on its archive date, everything else on the day (in the country's
time zone) it was recorded. No entry takes effect before the one recorded
before it for the same item (a back-dated archive of an item moved later is
counted when it was moved). A period [start, end] includes both days; its
opening balance is the balance at the end of the day before ``start``.

Classification (type, category, source, mark) is what is known of the item
(its current values, or, with a ledger cut-off, the values at that entry):
a corrected type or source is a correction of the record, applied to the
item's whole history; a corrected weight or piece count is a movement on
the day it was recorded.

Identity: for every row, opening + Σ movements = closing, exactly (Decimal
kilograms, integer items and pieces). ``Summary`` asserts it.
"""

import contextlib
import datetime
import gc
import json
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.db.models import Q
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate

from ledger.models import LedgerEntry, LedgerHead
from stock.models import ItemType, StockItem
from stock.scope import visible_site_ids
from tenants.current import current_country

Event = LedgerEntry.Event
TRANSIT = "transit"
ZERO_KG = Decimal("0.000")

# What reads the state: entries that are records only are not loaded.
_STATE_EVENTS = (
    Event.REGISTERED,
    Event.CORRECTION,
    Event.ARCHIVED,
    Event.DISPATCHED,
    Event.RECEIVED,
    Event.DISCREPANCY_RESOLVED,
    Event.STOCKTAKE_MISSING,
    Event.STOCKTAKE_FOUND,
)
# Classification fields whose corrections apply to the whole history.
_CLASS_FIELDS = ("item_type", "source", "received_on", "cites_mark")

# Movement lines (the second part of a line key: source, reason or "").
ADDED = "added"
REMOVED = "removed"
TRANSFER_IN = "transfer_in"
TRANSFER_OUT = "transfer_out"
MISSING = "missing"
FOUND = "found"
CORRECTED = "corrected"
LINE_ORDER = (ADDED, FOUND, TRANSFER_IN, TRANSFER_OUT, "transfer_net", CORRECTED, MISSING, REMOVED)


@dataclass
class Measure:
    items: int = 0
    pieces: int = 0
    weight_kg: Decimal = field(default_factory=lambda: ZERO_KG)

    def add(self, other: "Measure", sign: int = 1) -> None:
        self.items += sign * other.items
        self.pieces += sign * other.pieces
        self.weight_kg += sign * other.weight_kg

    def copy(self) -> "Measure":
        return Measure(self.items, self.pieces, self.weight_kg)

    def __bool__(self) -> bool:
        return bool(self.items or self.pieces or self.weight_kg)

    def as_tuple(self) -> tuple:
        return (self.items, self.pieces, self.weight_kg)


class ItemInfo(NamedTuple):
    """What is known of an item (classification, not place or weight)."""

    id: object
    sms_number: str
    item_type_id: int
    category_id: int
    source: str
    received_on: datetime.date
    cites_mark: str | None


class Holding(NamedTuple):
    """An item's contribution to the balance: where, how many pieces, how heavy."""

    place: object  # a site id or TRANSIT
    pieces: int
    weight_kg: Decimal


class Transition(NamedTuple):
    # Named tuples: a large country replays a million of these, and frozen
    # dataclasses cost several times more to build.
    item_id: object
    sequence: int
    day: datetime.date
    line_out: tuple | None  # the line the "before" holding leaves on
    line_in: tuple | None  # the line the "after" holding arrives on
    before: Holding | None
    after: Holding | None
    status_after: str = ""


@contextlib.contextmanager
def bulk():
    """Pause the cyclic garbage collector while hundreds of thousands of
    small objects (rows of an annex) are made: it would rescan them again and
    again — half the time of a large declaration — and they form no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _raw_rows(queryset, size: int = 10000):
    """Rows of a values_list queryset through a server-side cursor, without
    Django's per-row converters (plain psycopg types: UUID, date, str)."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(size):
            yield from rows


def country_zone() -> zoneinfo.ZoneInfo:
    name = getattr(current_country(), "time_zone", None) or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def ledger_head_sequence() -> int:
    head = LedgerHead.objects.filter(pk=1).values_list("last_sequence", flat=True).first()
    return head or 0


@dataclass
class Scope:
    """Which places a report shows: None = every site and in transit."""

    site_ids: frozenset | None = None

    def sees(self, place) -> bool:
        # A user's own scope holds site ids only: in transit is seen by
        # users who see every site (or a report narrowed to it by them).
        return self.site_ids is None or place in self.site_ids

    @classmethod
    def of_user(cls, user) -> "Scope":
        return cls(visible_site_ids(user))


@dataclass
class ItemFilter:
    """Which items: by classification (as known) and ids."""

    category_ids: frozenset | None = None
    category_kinds: frozenset | None = None
    item_type_ids: frozenset | None = None
    sources: frozenset | None = None

    def q(self) -> Q:
        q = Q()
        if self.category_ids is not None:
            q &= Q(item_type__category_id__in=self.category_ids)
        if self.category_kinds is not None:
            q &= Q(item_type__category__kind__in=self.category_kinds)
        if self.item_type_ids is not None:
            q &= Q(item_type_id__in=self.item_type_ids)
        if self.sources is not None:
            q &= Q(source__in=self.sources)
        return q

    def accepts(self, info: ItemInfo, types: dict) -> bool:
        item_type = types.get(info.item_type_id)
        if item_type is None:
            return False
        if self.category_ids is not None and item_type.category_id not in self.category_ids:
            return False
        if self.category_kinds is not None and item_type.category.kind not in self.category_kinds:
            return False
        if self.item_type_ids is not None and info.item_type_id not in self.item_type_ids:
            return False
        return self.sources is None or info.source in self.sources


class History:
    """The replayed ledger of the items that pass ``item_filter`` and were ever
    at a place in ``scope``, up to ledger entry ``cutoff`` (default: the last)."""

    def __init__(self, *, scope: Scope, item_filter: ItemFilter | None = None, cutoff=None):
        self.scope = scope
        self.item_filter = item_filter or ItemFilter()
        self.cutoff = ledger_head_sequence() if cutoff is None else cutoff
        self.zone = country_zone()
        self.types = {t.pk: t for t in ItemType.objects.select_related("category")}
        self.items: dict = {}
        self.transitions: list[Transition] = []
        self._load()

    # -- loading ---------------------------------------------------------------

    def _corrections_after_cutoff(self) -> dict:
        """{item_id: [changes ...]} of corrections recorded after the cut-off,
        newest first: undone to know the item as it was known at the cut-off."""
        undo: dict = defaultdict(list)
        rows = (
            LedgerEntry.objects.filter(event=Event.CORRECTION, sequence__gt=self.cutoff)
            .order_by("-sequence")
            .values_list("item_id", "payload")
        )
        for item_id, payload in rows.iterator(chunk_size=2000):
            for change in reversed((payload or {}).get("changes", [])):
                if change.get("field") in _CLASS_FIELDS:
                    undo[item_id].append(change)
        return undo

    def _load_items(self) -> None:
        undo = self._corrections_after_cutoff()
        wanted = self.item_filter.q()
        if undo and wanted:
            # Classified otherwise at the cut-off: checked below, once undone.
            wanted |= Q(pk__in=list(undo))
        items = StockItem.objects.filter(wanted)
        if self.scope.site_ids is not None and TRANSIT not in self.scope.site_ids:
            # Items ever at one of these sites have an entry there.
            ever_here = LedgerEntry.objects.filter(
                site_id__in=self.scope.site_ids, sequence__lte=self.cutoff
            ).values("item_id")
            items = items.filter(pk__in=ever_here)
        codes = {t.code: pk for pk, t in self.types.items()}
        self._items_query = items
        rows = _raw_rows(
            items.values_list(
                "pk", "sms_number", "item_type_id", "source", "received_on", "cites_mark"
            )
        )
        for pk, number, type_id, source, received_on, mark in rows:
            known = {
                "item_type": type_id,
                "source": source,
                "received_on": received_on,
                "cites_mark": mark,
            }
            for change in undo.get(pk, ()):
                old = change.get("old")
                name = change["field"]
                if name == "item_type":
                    old = codes.get(old, known["item_type"])
                elif name == "received_on" and old:
                    old = datetime.date.fromisoformat(old)
                known[name] = old
            item_type = self.types.get(known["item_type"])
            if item_type is None:
                continue
            info = ItemInfo(
                id=pk,
                sms_number=number,
                item_type_id=known["item_type"],
                category_id=item_type.category_id,
                source=known["source"],
                received_on=known["received_on"],
                cites_mark=known["cites_mark"],
            )
            if self.item_filter.accepts(info, self.types):
                self.items[pk] = info

    def _load(self) -> None:
        self._load_items()
        if not self.items:
            return
        entries = ledger_rows(
            LedgerEntry.objects.filter(
                item_id__in=self._items_query.values("pk"), sequence__lte=self.cutoff
            ),
            self.zone,
        )
        replay_rows(self.items, entries, self.transitions.append)

    @staticmethod
    def _step(info, state, sequence, day, event, site_id, payload):
        """(new state, Transition or None). ``state`` is a dict: status
        (held/transit/missing/gone), place, pieces, weight_kg."""
        payload = payload or {}
        if state is None and event != "registered":
            return state, None  # entries of an item before it is known: ignore
        if state is not None and state["status"] == "gone":
            return state, None
        new = dict(state) if state is not None else {}
        line_out = line_in = None
        if event == "registered":
            if state is not None:
                return state, None
            new = {
                "status": "held",
                "place": site_id,
                "pieces": int(payload.get("pieces") or 1),
                "weight_kg": Decimal(str(payload.get("weight_kg") or "0")),
            }
            line_in = (ADDED, info.source)
        elif event == "correction":
            for change in payload.get("changes", []):
                if change.get("field") == "weight_kg" and change.get("new") is not None:
                    new["weight_kg"] = Decimal(str(change["new"]))
                elif change.get("field") == "pieces" and change.get("new") is not None:
                    new["pieces"] = int(change["new"])
            line_out = line_in = (CORRECTED, "")
        elif event == "archived":
            new["status"] = "gone"
            line_out = (REMOVED, payload.get("reason", ""))
        elif event == "dispatched":
            new["status"], new["place"] = "transit", TRANSIT
            line_out, line_in = (TRANSFER_OUT, ""), (TRANSFER_IN, "")
        elif event == "received":
            new["status"], new["place"] = "held", site_id
            line_out, line_in = (TRANSFER_OUT, ""), (TRANSFER_IN, "")
        elif event == "discrepancy_resolved":
            resolution = payload.get("resolution")
            if resolution == "accept_new_weight" and payload.get("new_weight") is not None:
                new["weight_kg"] = Decimal(str(payload["new_weight"]))
                line_out = line_in = (CORRECTED, "")
            elif resolution == "mark_missing":
                new["status"] = "missing"
                line_out = (MISSING, "")
            elif resolution == "found" and payload.get("weight_kg") is not None:
                new["weight_kg"] = Decimal(str(payload["weight_kg"]))
                line_out = line_in = (CORRECTED, "")
            else:
                return state, None
        elif event == "stocktake_missing":
            new["status"] = "missing"
            line_out = (MISSING, "")
        elif event == "stocktake_found":
            new["status"], new["place"] = "held", site_id
            line_in = (FOUND, "")
        else:
            return state, None
        before, after = _holding(state), _holding(new)
        if before == after and new.get("status") == (state or {}).get("status"):
            return new, None
        return new, Transition(
            status_after=new["status"],
            item_id=info.id,
            sequence=sequence,
            day=day,
            line_out=line_out if before is not None else None,
            line_in=line_in if after is not None else None,
            before=before,
            after=after,
        )

    # -- reading ---------------------------------------------------------------

    def key_of(self, info: ItemInfo, place, group_by: Iterable[str]) -> tuple:
        parts = []
        for name in group_by:
            if name == "site":
                parts.append(place)
            elif name == "category":
                parts.append(info.category_id)
            elif name == "item_type":
                parts.append(info.item_type_id)
            elif name == "source":
                parts.append(info.source)
            else:
                raise ValueError(f"unknown grouping {name!r}")
        return tuple(parts)

    def summary(self, *, start: datetime.date, end: datetime.date, group_by=()) -> "Summary":
        """Opening balance at the end of the day before ``start``, movements
        of [start, end], closing balance at the end of ``end``."""
        return self.summaries(periods=[(start, end)], group_by=group_by)[0]

    def summaries(self, *, periods: list[tuple], group_by=()) -> list["Summary"]:
        results = [Summary(start=s, end=e, group_by=tuple(group_by)) for s, e in periods]
        sees = self.scope.sees
        for t in self.transitions:
            info = self.items[t.item_id]
            for side, holding, line in ((-1, t.before, t.line_out), (1, t.after, t.line_in)):
                if holding is None or not sees(holding.place):
                    continue
                key = self.key_of(info, holding.place, group_by)
                measure = Measure(side, side * holding.pieces, side * holding.weight_kg)
                for result in results:
                    if t.day > result.end:
                        continue
                    row = result.row(key)
                    if t.day < result.start:
                        row.opening.add(measure)
                    else:
                        row.lines.setdefault(line, Measure()).add(measure)
                    row.closing.add(measure)
        for result in results:
            result.drop_empty()
            result.check()
        return results

    def holdings_at(self, day: datetime.date) -> dict:
        """{item_id: Holding} of the items held at the end of ``day`` (in scope)."""
        held: dict = {}
        for t in self.transitions:
            if t.day > day:
                continue
            if t.after is None:
                held.pop(t.item_id, None)
            else:
                held[t.item_id] = t.after
        return {k: v for k, v in held.items() if self.scope.sees(v.place)}

    def missing_at(self, day: datetime.date) -> dict:
        """{item_id: Holding as last held} of the items recorded missing at the
        end of ``day`` (not in the balance), at places in scope."""
        last: dict = {}
        for t in self.transitions:
            if t.day <= day:
                last[t.item_id] = t
        missing = {}
        for item_id, t in last.items():
            if t.status_after != "missing":
                continue
            # The holding it had before it went missing.
            held = self._last_holding(item_id, t.sequence)
            if held is not None and self.scope.sees(held.place):
                missing[item_id] = held
        return missing

    def _last_holding(self, item_id, sequence) -> Holding | None:
        held = None
        for t in self._by_item().get(item_id, ()):
            if t.sequence > sequence:
                break
            if t.after is not None:
                held = t.after
        return held

    def _by_item(self) -> dict:
        if not hasattr(self, "_item_index"):
            index: dict = defaultdict(list)
            for t in self.transitions:
                index[t.item_id].append(t)
            self._item_index = index
        return self._item_index

    def item_lines(self, *, start: datetime.date, end: datetime.date) -> list[tuple]:
        """The item-level movements of [start, end] in scope:
        [(Transition, side sign, Holding, line)], in ledger order."""
        rows = []
        for t in self.transitions:
            if not (start <= t.day <= end):
                continue
            for side, holding, line in ((-1, t.before, t.line_out), (1, t.after, t.line_in)):
                if holding is not None and self.scope.sees(holding.place):
                    rows.append((t, side, holding, line))
        return rows

    # -- what a CITES declaration reads (reporting.aggregates.Totals answers the same) --

    def balances_at(self, day: datetime.date, group_by=()) -> dict:
        """{key: (Measure held at the end of ``day``, marked items among them)}."""
        result: dict = {}
        for item_id, holding in self.holdings_at(day).items():
            info = self.items[item_id]
            key = self.key_of(info, holding.place, group_by)
            measure, marked = result.get(key, (Measure(), 0))
            measure.add(Measure(1, holding.pieces, holding.weight_kg))
            result[key] = (measure, marked + (1 if info.cites_mark else 0))
        return result

    def marked_holdings_at(self, day: datetime.date) -> list[tuple]:
        """[(ItemInfo, Holding)] of the marked items held at the end of ``day``."""
        return [
            (self.items[item_id], holding)
            for item_id, holding in self.holdings_at(day).items()
            if self.items[item_id].cites_mark
        ]

    def annex_at(self, day: datetime.date) -> list[tuple]:
        """[(mark, SMS number, type id, source, pieces, kg, place)] of the
        marked items held at the end of ``day``, by mark."""
        rows = [
            (
                info.cites_mark,
                info.sms_number,
                info.item_type_id,
                info.source,
                holding.pieces,
                holding.weight_kg,
                holding.place,
            )
            for info, holding in self.marked_holdings_at(day)
        ]
        rows.sort(key=lambda row: row[0])
        return rows

    def missing_total_at(self, day: datetime.date) -> Measure:
        total = Measure()
        for holding in self.missing_at(day).values():
            total.add(Measure(1, holding.pieces, holding.weight_kg))
        return total

    def largest_item_lines(self, *, start, end, limit: int) -> list[tuple]:
        """The ``limit`` heaviest item movements of [start, end] other than
        transfers: [(Transition, side, Holding, line, ItemInfo)]."""
        rows = [
            (*row, self.items[row[0].item_id])
            for row in self.item_lines(start=start, end=end)
            if row[3] is not None and row[3][0] not in (TRANSFER_IN, TRANSFER_OUT)
        ]
        rows.sort(key=lambda r: -abs(r[2].weight_kg))
        return rows[:limit]

    def monthly_balances(self, *, first: datetime.date, last: datetime.date, by: str) -> dict:
        """{"months": [date of each month end], "series": {key: [Measure ...]}}:
        the balance at the end of each month from ``first``'s month to ``last``'s,
        grouped by "category" or "site"."""
        months = []
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            nxt = datetime.date(year + month // 12, month % 12 + 1, 1)
            months.append(nxt - datetime.timedelta(days=1))
            year, month = nxt.year, nxt.month
        index = {(m.year, m.month): i for i, m in enumerate(months)}
        deltas: dict = defaultdict(lambda: [Measure() for _ in months])
        opening: dict = defaultdict(Measure)
        for t in self.transitions:
            info = self.items[t.item_id]
            for side, holding in ((-1, t.before), (1, t.after)):
                if holding is None or not self.scope.sees(holding.place):
                    continue
                key = self.key_of(info, holding.place, (by,))[0]
                measure = Measure(side, side * holding.pieces, side * holding.weight_kg)
                if t.day < first.replace(day=1):
                    opening[key].add(measure)
                elif (t.day.year, t.day.month) in index:
                    deltas[key][index[(t.day.year, t.day.month)]].add(measure)
        series = {}
        for key in set(deltas) | set(opening):
            running = opening[key].copy()
            points = []
            for delta in deltas[key] if key in deltas else [Measure() for _ in months]:
                running.add(delta)
                points.append(running.copy())
            series[key] = points
        return {"months": months, "series": series}


def ledger_rows(entries, zone):
    """The state entries of ``entries`` (a LedgerEntry queryset) as plain tuples
    in sequence order, for replay_rows: one pass over the ledger through a
    server-side cursor, the payload's few keys and the local day extracted by
    PostgreSQL, so no per-row JSON or time zone work in Python."""
    return _raw_rows(
        entries.filter(event__in=_STATE_EVENTS)
        .annotate(
            local_day=TruncDate("occurred_at", tzinfo=zone),
            p_weight=KT("payload__weight_kg"),
            p_pieces=KT("payload__pieces"),
            p_archived_on=KT("payload__archived_on"),
            p_reason=KT("payload__reason"),
            p_resolution=KT("payload__resolution"),
            p_new_weight=KT("payload__new_weight"),
            p_changes=KT("payload__changes"),
        )
        .order_by("sequence")
        .values_list(
            "item_id",
            "sequence",
            "event",
            "local_day",
            "site_id",
            "p_weight",
            "p_pieces",
            "p_archived_on",
            "p_reason",
            "p_resolution",
            "p_new_weight",
            "p_changes",
        )
    )


def effective_day(event, day, *, received_on, archived_on, last_day):
    """The day an entry takes effect (see the module docstring): a registration
    on the date received, an archive on its archive date, anything else on
    the local day it was recorded — never before the item's previous entry."""
    if event == "registered":
        day = received_on
    elif event == "archived" and archived_on:
        day = (
            archived_on
            if isinstance(archived_on, datetime.date)
            else datetime.date.fromisoformat(archived_on)
        )
    if last_day is not None and day < last_day:
        day = last_day
    return day


def replay_rows(items: dict, rows, emit, states: dict | None = None) -> dict:
    """Replay ledger_rows() for the items of ``items`` ({id: ItemInfo}),
    calling ``emit(Transition)`` for each change; returns the states reached,
    {item_id: (state dict or None, last effective day)}."""
    states = {} if states is None else states
    step = History._step
    for row in rows:
        item_id, sequence, event, day, site_id = row[:5]
        info = items.get(item_id)
        if info is None:  # classified otherwise once corrections are undone
            continue
        state, last_day = states.get(item_id, (None, None))
        day = effective_day(
            event, day, received_on=info.received_on, archived_on=row[7], last_day=last_day
        )
        payload = {
            "weight_kg": row[5],
            "pieces": row[6],
            "reason": row[8] or "",
            "resolution": row[9],
            "new_weight": row[10],
            "changes": json.loads(row[11]) if row[11] else (),
        }
        state, transition = step(info, state, sequence, day, event, site_id, payload)
        states[item_id] = (state, day)
        if transition is not None:
            emit(transition)
    return states


def _holding(state: dict | None) -> Holding | None:
    if state is None or state["status"] not in ("held", "transit"):
        return None
    return Holding(state["place"], state["pieces"], state["weight_kg"])


class IdentityError(AssertionError):
    pass


@dataclass
class Row:
    opening: Measure = field(default_factory=Measure)
    lines: dict = field(default_factory=dict)  # (line, detail) -> Measure (signed)
    closing: Measure = field(default_factory=Measure)

    def movements(self) -> Measure:
        total = Measure()
        for measure in self.lines.values():
            total.add(measure)
        return total

    def line_total(self, name: str) -> Measure:
        total = Measure()
        for (line, _detail), measure in self.lines.items():
            if line == name:
                total.add(measure)
        return total

    def ordered_lines(self) -> list[tuple]:
        return sorted(
            self.lines.items(), key=lambda kv: (LINE_ORDER.index(kv[0][0]), str(kv[0][1]))
        )


@dataclass
class Summary:
    start: datetime.date
    end: datetime.date
    group_by: tuple
    rows: dict = field(default_factory=dict)  # key tuple -> Row

    def row(self, key: tuple) -> Row:
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = Row()
        return row

    def drop_empty(self) -> None:
        self.rows = {
            k: r
            for k, r in self.rows.items()
            if r.opening or r.closing or any(m for m in r.lines.values())
        }

    def total(self) -> Row:
        total = Row()
        for row in self.rows.values():
            total.opening.add(row.opening)
            total.closing.add(row.closing)
            for line, measure in row.lines.items():
                total.lines.setdefault(line, Measure()).add(measure)
        return total

    def check(self) -> None:
        """opening + movements = closing, for every row and the total."""
        for key, row in [*self.rows.items(), (("total",), self.total())]:
            expected = row.opening.copy()
            expected.add(row.movements())
            if expected.as_tuple() != row.closing.as_tuple():
                raise IdentityError(
                    f"{key}: opening {row.opening} + movements {row.movements()} "
                    f"!= closing {row.closing}"
                )
