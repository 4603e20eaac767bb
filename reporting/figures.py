"""Stock figures computed from the custody ledger (country schema).

Every report figure — balances, movements, CITES year-end stocks, the
monthly chart series — comes from replaying the custody ledger
(custody.LedgerEntry), never from the items' current state alone, so a
figure for a past date reads the same tomorrow as today.

What each ledger event does to the balance, and what each question means,
is defined once in reporting.definitions (its docstring has the event →
balance mapping); ``History`` is the engine that answers by replaying the
ledger, the reference the aggregates (reporting.aggregates.Totals) are
checked against. ``ledger_rows`` and ``replay_rows`` are the replay itself,
which reporting.totals also runs to rebuild its tables.
"""

import datetime
import json
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from operator import itemgetter

from django.db import connection
from django.db.models import Q
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate

from ledger.models import LedgerEntry, LedgerHead
from stock.models import StockItem
from stock.scope import visible_site_ids
from tenants.current import current_country

from .definitions import (
    ADDED,
    CLASS_FIELDS,
    CORRECTED,
    FOUND,
    LINE_ORDER,
    MISSING,
    MISSING_STATUS,
    NO_LINE,
    REMOVED,
    STATE_EVENTS,
    SUM_COLUMNS,
    TRANSFER_IN,
    TRANSFER_LINES,
    TRANSFER_OUT,
    TRANSIT,
    Figures,
    Holding,
    IdentityError,
    ItemInfo,
    Measure,
    Row,
    Rows,
    Summary,
    Transition,
    annex_row,
    bulk,
    effective_day,
    sides,
    step,
)

# Names the rest of the app reads from here (defined in reporting.definitions).
__all__ = [
    "ADDED",
    "CORRECTED",
    "FOUND",
    "LINE_ORDER",
    "MISSING",
    "REMOVED",
    "TRANSFER_IN",
    "TRANSFER_OUT",
    "TRANSIT",
    "History",
    "Holding",
    "IdentityError",
    "ItemFilter",
    "ItemInfo",
    "Measure",
    "Row",
    "Rows",
    "Scope",
    "Summary",
    "Transition",
    "bulk",
    "country_zone",
    "ledger_head_sequence",
    "ledger_rows",
    "raw_rows",
    "replay_rows",
    "zone_named",
]


def raw_rows(queryset, size: int = 10000):
    """Rows of a values_list queryset through a server-side cursor, without
    Django's per-row converters (plain psycopg types: UUID, date, str)."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(size):
            yield from rows


def zone_named(name) -> zoneinfo.ZoneInfo:
    """The time zone of that name; UTC when there is none or it is unknown."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def country_zone() -> zoneinfo.ZoneInfo:
    return zone_named(getattr(current_country(), "time_zone", None))


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


class History(Figures):
    """The replayed ledger of the items that pass ``item_filter`` and were ever
    at a place in ``scope``, up to ledger entry ``cutoff`` (default: the last)."""

    def __init__(self, *, scope: Scope, item_filter: ItemFilter | None = None, cutoff=None):
        super().__init__(
            scope=scope,
            item_filter=item_filter or ItemFilter(),
            cutoff=ledger_head_sequence() if cutoff is None else cutoff,
        )
        self.zone = country_zone()
        self.transitions: list[Transition] = []
        self._day_sums: dict | None = None
        self._item_index: dict | None = None
        self._load()

    # -- loading ---------------------------------------------------------------

    def _corrections_after_cutoff(self) -> dict:
        """{item_id: [changes ...]} of corrections recorded after the cut-off,
        newest first: undone to know the item as it was known at the cut-off."""
        undo: dict = defaultdict(list)
        rows = (
            LedgerEntry.objects.filter(event=LedgerEntry.Event.CORRECTION, sequence__gt=self.cutoff)
            .order_by("-sequence")
            .values_list("item_id", "payload")
        )
        for item_id, payload in rows.iterator(chunk_size=2000):
            for change in reversed((payload or {}).get("changes", [])):
                if change.get("field") in CLASS_FIELDS:
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
        rows = raw_rows(
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

    # -- the engine's reads (reporting.definitions.Figures) -------------------------

    def _day_totals(self) -> dict:
        """The movements in scope summed per effective day and SUM_COLUMNS,
        {(day, place, type, source, line, detail): [items, pieces, kg,
        marked]} — what reporting.totals stores per day — computed once per
        History and summed again by every balance and period asked."""
        if self._day_sums is None:
            totals: dict = {}
            sees = self.scope.sees
            items = self.items
            for t in self.transitions:
                info = items[t.item_id]
                marked = 1 if info.cites_mark else 0
                for sign, holding, line in sides(t):
                    if holding is None or not sees(holding.place):
                        continue
                    line, detail = line or NO_LINE
                    key = (t.day, holding.place, info.item_type_id, info.source, line, detail)
                    sums = totals.get(key)
                    if sums is None:
                        sums = totals[key] = [0, 0, 0, 0]
                    sums[0] += sign
                    sums[1] += sign * holding.pieces
                    sums[2] += sign * holding.weight_kg
                    sums[3] += sign * marked
            self._day_sums = totals
        return self._day_sums

    def _sums(self, parts: dict, columns: tuple) -> list[tuple]:
        pick = _picker(columns)
        part_of: dict = {}  # day -> its part (None: in none)
        result: dict = {}
        for key, (items, pieces, kg, marked) in self._day_totals().items():
            day = key[0]
            part = part_of.get(day, "")
            if part == "":
                part = part_of[day] = next(
                    (name for name, (first, last) in parts.items() if first <= day <= last), None
                )
            if part is None:
                continue
            group = (part, *pick(key))
            sums = result.get(group)
            if sums is None:
                result[group] = [items, pieces, kg, marked]
            else:
                sums[0] += items
                sums[1] += pieces
                sums[2] += kg
                sums[3] += marked
        return [(*group, *sums) for group, sums in result.items()]

    def _held(self, day: datetime.date, *, marked_only: bool = False) -> list[tuple]:
        held: dict = {}
        for t in self.transitions:
            if t.day > day:
                continue
            if t.after is None:
                held.pop(t.item_id, None)
            else:
                held[t.item_id] = t.after
        sees, items = self.scope.sees, self.items
        return [
            (items[item_id], holding)
            for item_id, holding in held.items()
            if sees(holding.place) and (not marked_only or items[item_id].cites_mark)
        ]

    def _annex_rows(self, day: datetime.date) -> list[tuple]:
        return [annex_row(info, holding) for info, holding in self._held(day, marked_only=True)]

    def missing_at(self, day: datetime.date) -> dict:
        """{item_id: Holding as last held} of the items recorded missing at the
        end of ``day`` (not in the balance), at places in scope."""
        last: dict = {}
        for t in self.transitions:
            if t.day <= day:
                last[t.item_id] = t
        missing = {}
        for item_id, t in last.items():
            if t.status_after != MISSING_STATUS:
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
        if self._item_index is None:
            index: dict = defaultdict(list)
            for t in self.transitions:
                index[t.item_id].append(t)
            self._item_index = index
        return self._item_index

    def _item_lines(self, start, end, *, heaviest: int | None = None) -> list[tuple]:
        rows = []
        sees = self.scope.sees
        for t in self.transitions:
            if not (start <= t.day <= end):
                continue
            for sign, holding, line in sides(t):
                if holding is None or not sees(holding.place):
                    continue
                if heaviest is not None and (line is None or line[0] in TRANSFER_LINES):
                    continue
                rows.append((t, sign, holding, line))
        if heaviest is not None:
            rows.sort(key=lambda row: -row[2].weight_kg)  # stable: ledger order among equals
            rows = rows[:heaviest]
        return rows


def _picker(columns: tuple):
    """A function: a day-totals key → the values of ``columns`` (of
    SUM_COLUMNS, then "month" last)."""
    month = bool(columns) and columns[-1] == "month"
    positions = [SUM_COLUMNS.index(c) + 1 for c in (columns[:-1] if month else columns)]
    if len(positions) > 1:
        values = itemgetter(*positions)
    elif positions:
        (i,) = positions

        def values(key):
            return (key[i],)
    else:

        def values(key):
            return ()

    if not month:
        return values
    return lambda key: (*values(key), key[0].replace(day=1))


def ledger_rows(entries, zone):
    """The state entries of ``entries`` (a LedgerEntry queryset) as plain tuples
    in sequence order, for replay_rows: one pass over the ledger through a
    server-side cursor, the payload's few keys and the local day extracted by
    PostgreSQL, so no per-row JSON or time zone work in Python."""
    return raw_rows(
        entries.filter(event__in=STATE_EVENTS)
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


def replay_rows(items: dict, rows, emit, states: dict | None = None) -> dict:
    """Replay ledger_rows() for the items of ``items`` ({id: ItemInfo}) with
    reporting.definitions.step, calling ``emit(Transition)`` for each change;
    returns the states reached, {item_id: (State or None, last effective day)}."""
    states = {} if states is None else states
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
