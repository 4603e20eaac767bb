"""What every report figure means, defined once (country schema).

Two engines answer the reports' questions. ``reporting.figures.History``
replays the custody ledger — the reference, and the only one that can answer
as of a past ledger entry. ``reporting.aggregates.Totals`` reads the tables
``reporting.totals`` keeps in step with the ledger — a few thousand rows
whatever the country's size. Neither defines a figure; both take it from here:

- **events → effects** (``EFFECTS``, ``step``, ``effective_day``): how each
  ledger entry changes an item's state and the balance. The replay runs these
  steps over the ledger; reporting.totals runs one per entry as it is
  appended, and the same replay to rebuild.
- **a change → movements** (``sides``): each change takes its "before"
  holding off on one line and puts its "after" holding on another.
- **the questions** (``Figures``): balances and movements of periods, the
  items held or missing at a date, the monthly series. Each is answered
  once, from a few reads each engine does its own way: the movements summed
  over days (``_sums``), the items held at a date (``_held``, ``_annex_rows``),
  the items missing (``missing_at``), the item movements of a period
  (``_item_lines``).

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
who see every site see the in-transit line. An entry before the item's
registration, a second registration and anything after an archive change
nothing.

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
kilograms, integer items and pieces). ``Summary`` asserts it. A line whose
movements cancel out within a period (a weight corrected and corrected
back) is not a movement of that period.
"""

import contextlib
import datetime
import gc
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import NamedTuple

from django.db import connection

from ledger.models import LedgerEntry
from stock.models import ItemType

Event = LedgerEntry.Event
TRANSIT = "transit"  # the place of an item in transit
ZERO_KG = Decimal("0.000")
FIRST_DAY = datetime.date(1, 1, 1)
ONE_DAY = datetime.timedelta(days=1)

# An item's status in the replay (also as stored in reporting.models).
HELD, IN_TRANSIT, MISSING_STATUS, GONE = "held", "transit", "missing", "gone"
HOLDING_STATUSES = (HELD, IN_TRANSIT)  # what the balance counts

# Movement lines (the first part of a line key; the second is the source,
# the archive reason or "").
ADDED = "added"
REMOVED = "removed"
TRANSFER_IN = "transfer_in"
TRANSFER_OUT = "transfer_out"
MISSING = "missing"
FOUND = "found"
CORRECTED = "corrected"
LINE_ORDER = (ADDED, FOUND, TRANSFER_IN, TRANSFER_OUT, "transfer_net", CORRECTED, MISSING, REMOVED)
TRANSFER_LINES = (TRANSFER_IN, TRANSFER_OUT)
NO_LINE = ("", "")  # how a side without a line is stored and summed


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


class Rows:
    """A long list of rows (the CITES annex: hundreds of thousands of marks)
    made only as it is used: iterated, it streams them from the database in
    the query's order (a server-side cursor, a chunk at a time), so nothing
    holds them all; ``len`` counts them in the database; ``head(n)`` reads
    the first n. ``map(convert)`` is the same rows, each passed through
    ``convert`` as it is read. A plain list (the ledger replay) works alike.

    Iterate it in the transaction the figures beside it were read in
    (reporting.documents.snapshot), so both show the same moment."""

    CHUNK = 5_000

    def __init__(self, *, rows=None, sql: str = "", params=(), order: str = "", convert=()):
        self._rows = rows
        self._sql, self._params, self._order = sql, list(params), order
        self._convert = tuple(convert)
        self._count = None if rows is None else len(rows)

    def map(self, convert: Callable) -> "Rows":
        mapped = Rows(
            rows=self._rows,
            sql=self._sql,
            params=self._params,
            order=self._order,
            convert=(*self._convert, convert),
        )
        mapped._count = self._count
        return mapped

    def _converted(self, rows: Iterable) -> Iterable:
        for convert in self._convert:
            rows = map(convert, rows)
        return rows

    def __iter__(self):
        if self._rows is not None:
            return iter(self._converted(self._rows))
        return iter(self._converted(self._stream()))

    def _stream(self):
        # A server-side cursor (as reporting.figures.raw_rows): a chunk at a time.
        with connection.chunked_cursor() as cursor:
            cursor.execute(f"{self._sql} ORDER BY {self._order}", self._params)  # noqa: S608
            while chunk := cursor.fetchmany(self.CHUNK):
                yield from chunk

    def __len__(self) -> int:
        if self._count is None:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT count(*) FROM ({self._sql}) counted", self._params)  # noqa: S608
                self._count = cursor.fetchone()[0]
        return self._count

    def __bool__(self) -> bool:
        return bool(self.head(1))

    def head(self, number: int) -> list:
        """The first ``number`` rows, as a list."""
        if self._rows is not None:
            return list(self._converted(self._rows[:number]))
        with connection.cursor() as cursor:
            cursor.execute(
                f"{self._sql} ORDER BY {self._order} LIMIT %s",  # noqa: S608
                [*self._params, number],
            )
            return list(self._converted(cursor.fetchall()))


# --- Values ----------------------------------------------------------------------------


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


class State(NamedTuple):
    """Where the replay has an item: status (HELD, IN_TRANSIT, MISSING_STATUS,
    GONE), place (a site id or TRANSIT), pieces and weight."""

    status: str
    place: object
    pieces: int
    weight_kg: Decimal


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


# --- Events → effects ------------------------------------------------------------------
#
# One function per event: (state, item, site of the entry, payload) → (new
# state, line the old holding leaves on, line the new one arrives on), or
# None when the entry changes nothing. Payload values may be strings (read
# from the ledger's JSON) or numbers (an entry just appended): Decimal(str()).


def _kg(value) -> Decimal:
    return Decimal(str(value))


def _registered(state, info, site_id, payload):
    pieces = int(payload.get("pieces") or 1)
    weight = _kg(payload.get("weight_kg") or "0")
    return State(HELD, site_id, pieces, weight), None, (ADDED, info.source)


def _corrected(state, info, site_id, payload):
    pieces, weight = state.pieces, state.weight_kg
    for change in payload.get("changes") or ():
        if change.get("new") is None:
            continue
        if change.get("field") == "weight_kg":
            weight = _kg(change["new"])
        elif change.get("field") == "pieces":
            pieces = int(change["new"])
    line = (CORRECTED, "")
    return State(state.status, state.place, pieces, weight), line, line


def _archived(state, info, site_id, payload):
    gone = State(GONE, state.place, state.pieces, state.weight_kg)
    return gone, (REMOVED, payload.get("reason") or ""), None


def _dispatched(state, info, site_id, payload):
    moving = State(IN_TRANSIT, TRANSIT, state.pieces, state.weight_kg)
    return moving, (TRANSFER_OUT, ""), (TRANSFER_IN, "")


def _received(state, info, site_id, payload):
    arrived = State(HELD, site_id, state.pieces, state.weight_kg)
    return arrived, (TRANSFER_OUT, ""), (TRANSFER_IN, "")


def _reweighed(state, weight):
    line = (CORRECTED, "")
    return State(state.status, state.place, state.pieces, _kg(weight)), line, line


def _went_missing(state, info, site_id, payload):
    lost = State(MISSING_STATUS, state.place, state.pieces, state.weight_kg)
    return lost, (MISSING, ""), None


def _discrepancy_resolved(state, info, site_id, payload):
    resolution = payload.get("resolution")
    if resolution == "accept_new_weight" and payload.get("new_weight") is not None:
        return _reweighed(state, payload["new_weight"])
    if resolution == "mark_missing":
        return _went_missing(state, info, site_id, payload)
    if resolution == "found" and payload.get("weight_kg") is not None:
        return _reweighed(state, payload["weight_kg"])
    return None


def _found(state, info, site_id, payload):
    back = State(HELD, site_id, state.pieces, state.weight_kg)
    return back, None, (FOUND, "")


EFFECTS: dict[str, Callable] = {
    Event.REGISTERED: _registered,
    Event.CORRECTION: _corrected,
    Event.ARCHIVED: _archived,
    Event.DISPATCHED: _dispatched,
    Event.RECEIVED: _received,
    Event.DISCREPANCY_RESOLVED: _discrepancy_resolved,
    Event.STOCKTAKE_MISSING: _went_missing,
    Event.STOCKTAKE_FOUND: _found,
}
# The entries that can change a figure (others are records only: not read).
STATE_EVENTS = frozenset(str(event) for event in EFFECTS)
# Classification fields whose corrections apply to the whole history.
CLASS_FIELDS = ("item_type", "source", "received_on", "cites_mark")


def holding_of(state: State | None) -> Holding | None:
    if state is None or state.status not in HOLDING_STATUSES:
        return None
    return Holding(state.place, state.pieces, state.weight_kg)


def step(info: ItemInfo, state: State | None, sequence, day, event, site_id, payload):
    """One ledger entry of the item ``info`` applied to ``state`` (None: not
    registered yet): (new state, Transition or None when no holding or status
    changed)."""
    if state is None:
        if event != Event.REGISTERED:
            return state, None  # entries of an item before it is known
    elif event == Event.REGISTERED or state.status == GONE:
        return state, None
    effect = EFFECTS.get(event)
    change = effect(state, info, site_id, payload or {}) if effect is not None else None
    if change is None:
        return state, None
    new, line_out, line_in = change
    before, after = holding_of(state), holding_of(new)
    if before == after and new.status == (state.status if state is not None else None):
        return new, None
    return new, Transition(
        item_id=info.id,
        sequence=sequence,
        day=day,
        line_out=line_out if before is not None else None,
        line_in=line_in if after is not None else None,
        before=before,
        after=after,
        status_after=new.status,
    )


def effective_day(event, day, *, received_on, archived_on, last_day):
    """The day an entry takes effect: a registration on the date received, an
    archive on its archive date, anything else on the local day it was
    recorded — never before the item's previous entry."""
    if event == Event.REGISTERED:
        day = received_on
    elif event == Event.ARCHIVED and archived_on:
        day = (
            archived_on
            if isinstance(archived_on, datetime.date)
            else datetime.date.fromisoformat(archived_on)
        )
    if last_day is not None and day < last_day:
        day = last_day
    return day


def sides(t: Transition) -> tuple:
    """The movements of a change: ((-1, holding left, its line), (+1, holding
    reached, its line)); a side's holding is None when the item was not /
    is no longer held. (reporting.totals writes the same in SQL.)"""
    return ((-1, t.before, t.line_out), (1, t.after, t.line_in))


# --- Periods ------------------------------------------------------------------------------


def month_last(day: datetime.date) -> datetime.date:
    nxt = datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return nxt - ONE_DAY


def month_ends(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """The last day of each month from ``first``'s month to ``last``'s."""
    months = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month_last(month))
        month = months[-1] + ONE_DAY
    return months


def running_series(months: list, opening: dict, deltas: dict) -> dict:
    """{key: [balance at each month end]} from each key's opening balance and
    its change in each month ([Measure per month])."""
    series = {}
    for key in set(deltas) | set(opening):
        running = opening[key].copy() if key in opening else Measure()
        points = []
        for delta in deltas.get(key) or [Measure()] * len(months):
            running.add(delta)
            points.append(running.copy())
        series[key] = points
    return series


# --- Statements -------------------------------------------------------------------------


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
        """Drop the lines whose movements cancel out, then the rows with
        nothing left."""
        for row in self.rows.values():
            row.lines = {line: m for line, m in row.lines.items() if m}
        self.rows = {k: r for k, r in self.rows.items() if r.opening or r.closing or r.lines}

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


# --- The questions ----------------------------------------------------------------------

# The parts a question sums the movements of (Figures._sums).
OPENING, PERIOD, UP_TO, MONTHS = "opening", "period", "up_to", "months"
# What a report groups by → the movement column it reads.
GROUP_COLUMNS = {
    "site": "place",
    "category": "item_type",
    "item_type": "item_type",
    "source": "source",
}
# What _sums groups by: these, and "month" (the first day of a movement's month).
SUM_COLUMNS = ("place", "item_type", "source", "line", "detail")


def annex_row(info: ItemInfo, holding: Holding) -> tuple:
    """A row of a CITES annex: (mark, SMS number, type id, source, pieces,
    kg, place) — plain tuples, a large country's annex has hundreds of
    thousands of them."""
    return (
        info.cites_mark,
        info.sms_number,
        info.item_type_id,
        info.source,
        holding.pieces,
        holding.weight_kg,
        holding.place,
    )


class Figures:
    """The figures of the items that pass ``item_filter``, at the places in
    ``scope``, as of ledger entry ``cutoff``: every question a report asks,
    answered from the engine's reads.

    An engine supplies:

    - ``_sums(parts, columns)``: the movements (both sides of every change,
      at places in scope) whose effective day falls in each part
      ({name: (first day, last day)}, disjoint), summed per ``columns`` (of
      SUM_COLUMNS and "month"): [(part, *column values, items, pieces, kg,
      marked items)]. A balance at a day is the sum of all movements up to it.
    - ``_held(day, marked_only)``: [(ItemInfo, Holding)] of the items held at
      the end of ``day``; ``_annex_rows(day)``: the marked ones as annex_row()s.
    - ``missing_at(day)``: {item id: Holding as last held} of the items
      recorded missing at the end of ``day``, at places in scope.
    - ``_item_lines(start, end, heaviest)``: the item-level movements of
      [start, end] in scope, [(Transition, sign, Holding, line)] in ledger
      order; with ``heaviest``, only that many, heaviest first, transfers left
      out.

    ``items`` holds the ItemInfo of every item an answer named."""

    def __init__(self, *, scope, item_filter, cutoff: int):
        self.scope = scope
        self.item_filter = item_filter
        self.cutoff = cutoff
        self.types = {t.pk: t for t in ItemType.objects.select_related("category")}
        self.items: dict = {}

    def _sums(self, parts: dict, columns: tuple) -> Iterable[tuple]:
        raise NotImplementedError

    def _held(self, day: datetime.date, *, marked_only: bool = False) -> Iterable[tuple]:
        raise NotImplementedError

    def _annex_rows(self, day: datetime.date) -> list[tuple]:
        raise NotImplementedError

    def missing_at(self, day: datetime.date) -> dict:
        raise NotImplementedError

    def _item_lines(self, start, end, *, heaviest: int | None = None) -> list[tuple]:
        raise NotImplementedError

    def _grouping(self, group_by: tuple):
        """(the columns ``group_by`` reads, a function: their values → key)."""
        unknown = [name for name in group_by if name not in GROUP_COLUMNS]
        if unknown:
            raise ValueError(f"unknown grouping {unknown[0]!r}")
        columns = tuple(dict.fromkeys(GROUP_COLUMNS[name] for name in group_by))
        parts = [(name == "category", columns.index(GROUP_COLUMNS[name])) for name in group_by]
        types = self.types

        def key_of(values) -> tuple:
            return tuple(
                types[values[i]].category_id if category else values[i] for category, i in parts
            )

        return columns, key_of

    # -- balances and movements -----------------------------------------------------------

    def summary(self, *, start: datetime.date, end: datetime.date, group_by=()) -> Summary:
        """Opening balance at the end of the day before ``start``, movements
        of [start, end], closing balance at the end of ``end``."""
        return self.summaries(periods=[(start, end)], group_by=group_by)[0]

    def summaries(self, *, periods: list[tuple], group_by=()) -> list[Summary]:
        group_by = tuple(group_by)
        columns, key_of = self._grouping(group_by)
        results = []
        for start, end in periods:
            result = Summary(start=start, end=end, group_by=group_by)
            parts = {OPENING: (FIRST_DAY, start - ONE_DAY), PERIOD: (start, end)}
            for part, *values, items, pieces, kg, _marked in self._sums(
                parts, (*columns, "line", "detail")
            ):
                measure = Measure(int(items), int(pieces), kg)
                row = result.row(key_of(values))
                if part == OPENING:
                    row.opening.add(measure)
                else:
                    row.lines.setdefault(tuple(values[-2:]), Measure()).add(measure)
                row.closing.add(measure)
            result.drop_empty()
            result.check()
            results.append(result)
        return results

    def balances_at(self, day: datetime.date, group_by=()) -> dict:
        """{key: (Measure held at the end of ``day``, marked items among them)}."""
        columns, key_of = self._grouping(tuple(group_by))
        result: dict = {}
        for _part, *values, items, pieces, kg, marked in self._sums(
            {UP_TO: (FIRST_DAY, day)}, columns
        ):
            key = key_of(values)
            measure, count = result.get(key, (Measure(), 0))
            measure.add(Measure(int(items), int(pieces), kg))
            result[key] = (measure, count + int(marked))
        return {k: v for k, v in result.items() if v[0] or v[1]}

    def monthly_balances(self, *, first: datetime.date, last: datetime.date, by: str) -> dict:
        """{"months": [date of each month end], "series": {key: [Measure ...]}}:
        the balance at the end of each month from ``first``'s month to
        ``last``'s, grouped by "category" or "site" (keys are single values)."""
        months = month_ends(first, last)
        columns, key_of = self._grouping((by,))
        first_month = first.replace(day=1)
        opening: dict = defaultdict(Measure)
        for _part, *values, items, pieces, kg, _marked in self._sums(
            {OPENING: (FIRST_DAY, first_month - ONE_DAY)}, columns
        ):
            opening[key_of(values)[0]].add(Measure(int(items), int(pieces), kg))
        deltas: dict = defaultdict(lambda: [Measure() for _ in months])
        if months:
            index = {m.replace(day=1): i for i, m in enumerate(months)}
            for _part, *values, month, items, pieces, kg, _marked in self._sums(
                {MONTHS: (first_month, months[-1])}, (*columns, "month")
            ):
                deltas[key_of(values)[0]][index[month]].add(Measure(int(items), int(pieces), kg))
        return {"months": months, "series": running_series(months, opening, deltas)}

    # -- items ----------------------------------------------------------------------------

    def holdings_at(self, day: datetime.date) -> dict:
        """{item_id: Holding} of the items held at the end of ``day`` (in scope);
        their ItemInfo in ``self.items``."""
        return {info.id: holding for info, holding in self._held(day)}

    def marked_holdings_at(self, day: datetime.date) -> list[tuple]:
        """[(ItemInfo, Holding)] of the marked items held at the end of ``day``."""
        return list(self._held(day, marked_only=True))

    def annex_at(self, day: datetime.date) -> Rows:
        """annex_row()s of the marked items held at the end of ``day``, by mark
        (then SMS number), as Rows: an engine that reads them from the
        database streams them when they are used."""
        with bulk():
            rows = self._annex_rows(day)
            rows.sort(key=itemgetter(0, 1))
        return Rows(rows=rows)

    def missing_total_at(self, day: datetime.date) -> Measure:
        total = Measure()
        for holding in self.missing_at(day).values():
            total.add(Measure(1, holding.pieces, holding.weight_kg))
        return total

    def item_lines(self, *, start: datetime.date, end: datetime.date) -> list[tuple]:
        """The item-level movements of [start, end] in scope:
        [(Transition, side sign, Holding, line)], in ledger order."""
        return self._item_lines(start, end)

    def largest_item_lines(self, *, start, end, limit: int) -> list[tuple]:
        """The ``limit`` heaviest item movements of [start, end] other than
        transfers (ledger order among equals): [(Transition, side, Holding,
        line, ItemInfo)]."""
        rows = self._item_lines(start, end, heaviest=limit)
        return [(*row, self.items[row[0].item_id]) for row in rows]
