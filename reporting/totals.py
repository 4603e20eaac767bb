"""Report aggregates kept up to date with the custody ledger (country schema).

The ledger (ledger.listeners) calls ``entries_appended`` with the entries of
every append — one, or a whole batch (ledger.chain.batched: the ODK sync, the
register import) — inside the transaction that makes the change and while it
holds the ledger head lock —
so the aggregates change if and only if the ledger does, and two appends of
one country never interleave here. For each entry that changes an item's
state (reporting.definitions' event → balance mapping), it takes one step of
the same replay (reporting.definitions.step) from where the item stands
(ItemPosition), records the change (ItemTransition) and adds its movements
to MovementTotal — two round trips, whatever the country's size.

Classification corrections apply to an item's whole history (a corrected
type, source or mark is a correction of the record; a corrected date
received moves its registration): when the item's classification differs
from the one its movements are booked under, its movements are taken off
under the old one, and the item is replayed from its ledger entries and
booked again under the new one — the same answer a full replay gives.

``rebuild`` recomputes everything from the ledger (back-fill, repair, and
after a change of the country's time zone, which moves effective days):
``manage.py rebuild_report_totals``.
"""

from decimal import Decimal

from django.db import connection, transaction

from ledger.models import LedgerEntry, LedgerHead
from stock.models import StockItem

from .definitions import STATE_EVENTS, TRANSIT, ItemInfo, State, effective_day, step
from .figures import country_zone, ledger_rows, raw_rows, replay_rows
from .models import MonthBalance

TRANSIT_PLACE = 0  # how the tables write "in transit" (no site has id 0)

_POSITION_COLUMNS = (
    "item_id, status, place_id, pieces, weight_kg, last_day,"
    " item_type_id, source, received_on, cites_mark, sms_number"
)
_TRANSITION_COLUMNS = (
    "sequence, item_id, day, status_after, place_before, pieces_before, weight_before,"
    " line_out, detail_out, place_after, pieces_after, weight_after, line_in, detail_in"
)
_UPSERT_POSITION = (
    f"INSERT INTO reporting_itemposition ({_POSITION_COLUMNS})"  # noqa: S608 - constants
    " VALUES (%(item)s, %(status)s, %(place)s, %(pieces)s, %(weight)s, %(last_day)s,"
    " %(item_type)s, %(source)s, %(received_on)s, %(mark)s, %(number)s)"
    " ON CONFLICT (item_id) DO UPDATE SET status = EXCLUDED.status,"
    " place_id = EXCLUDED.place_id, pieces = EXCLUDED.pieces, weight_kg = EXCLUDED.weight_kg,"
    " last_day = EXCLUDED.last_day, item_type_id = EXCLUDED.item_type_id,"
    " source = EXCLUDED.source, received_on = EXCLUDED.received_on,"
    " cites_mark = EXCLUDED.cites_mark, sms_number = EXCLUDED.sms_number"
)
_INSERT_TRANSITION_VALUES = (
    " VALUES (%(sequence)s, %(item)s, %(day)s, %(status_after)s, %(place_before)s,"
    " %(pieces_before)s, %(weight_before)s, %(line_out)s, %(detail_out)s, %(place_after)s,"
    " %(pieces_after)s, %(weight_after)s, %(line_in)s, %(detail_in)s)"
)
_MARKED = "CASE WHEN coalesce(p.cites_mark, '') <> '' THEN 1 ELSE 0 END"


# Both sides of each transition in the relation ``t``: the holding it
# leaves (counted negative) and the one it arrives at.
_SIDES = (
    " CROSS JOIN LATERAL (VALUES"
    " (t.place_before, t.line_out, t.detail_out, -1, -t.pieces_before,"
    "  -t.weight_before, -t.marked),"
    " (t.place_after, t.line_in, t.detail_in, 1, t.pieces_after, t.weight_after, t.marked)"
    " ) AS s(place_id, line, detail, items, pieces, weight_kg, marked)"
)


def _contribute_sql(relation: str, sign: int, *, ctes: str = "", balances: bool = True) -> str:
    """Add (sign 1) or take off (-1) the movements of the transitions in
    ``relation`` (transition columns plus item_type_id, source, marked): each
    side on its line, at its place (reporting.definitions.sides, in SQL), in
    its year, month and day, and net of source and line in its year and month
    (for the charts). Grouped first, so one statement never touches a key
    twice. With ``balances``, the same statement moves the month-end
    balances (MonthBalance) of each place and category from the movement's
    month on. ``ctes``: common table expressions ``relation`` reads
    ("name AS (...), ")."""
    sign = 1 if sign > 0 else -1
    movements = (
        "INSERT INTO reporting_movementtotal AS m (grain, period_start, place_id,"  # noqa: S608
        " item_type_id, source, line, detail, items, pieces, weight_kg, marked)"
        " SELECT g.grain, g.period_start, s.place_id, t.item_type_id,"
        " CASE WHEN g.grain > 3 THEN '' ELSE t.source END,"
        " CASE WHEN g.grain > 3 THEN '' ELSE s.line END,"
        " CASE WHEN g.grain > 3 THEN '' ELSE s.detail END,"
        f" {sign} * sum(s.items), {sign} * sum(s.pieces),"
        f" {sign} * sum(s.weight_kg), {sign} * sum(s.marked)"
        " FROM moved t" + _SIDES + " CROSS JOIN LATERAL (VALUES"
        " (1, date_trunc('year', t.day::timestamp)::date),"
        " (2, date_trunc('month', t.day::timestamp)::date),"
        " (3, t.day),"
        " (4, date_trunc('year', t.day::timestamp)::date),"
        " (5, date_trunc('month', t.day::timestamp)::date)) AS g(grain, period_start)"
        " WHERE s.place_id IS NOT NULL"
        " GROUP BY 1, 2, 3, 4, 5, 6, 7"
        " ON CONFLICT ON CONSTRAINT reporting_movement_key DO UPDATE SET"
        " items = m.items + EXCLUDED.items, pieces = m.pieces + EXCLUDED.pieces,"
        " weight_kg = m.weight_kg + EXCLUDED.weight_kg, marked = m.marked + EXCLUDED.marked"
    )
    if not balances:
        return f"WITH {ctes}moved AS ({relation}) {movements}"
    # The change of each place and category in each month, then the balances.
    return (
        f"WITH {ctes}moved AS ({relation}), mv AS ({movements}),"  # noqa: S608 - constants
        " d AS (SELECT s.place_id, ty.category_id,"
        " date_trunc('month', t.day::timestamp)::date AS month,"
        f" {sign} * sum(s.items) AS items, {sign} * sum(s.pieces) AS pieces,"
        f" {sign} * sum(s.weight_kg) AS weight_kg"
        " FROM moved t" + _SIDES + " JOIN stock_itemtype ty ON ty.id = t.item_type_id"
        " WHERE s.place_id IS NOT NULL GROUP BY 1, 2, 3)," + _BALANCE_UPSERT
    )


# The month-end balances a change ``d`` (place_id, category_id, month, items,
# pieces, weight_kg) moves: each changed pair's months from its first change
# to the latest month booked, and — when ``d`` opens a later month — every
# pair carried into it. Each balance: as it stood (or as carried from the
# pair's last month before it, or nothing) plus the changes up to its month.
_BALANCE_UPSERT = (
    " latest AS (SELECT max(month) AS month FROM reporting_monthbalance),"
    " k AS ("
    " SELECT f.place_id, f.category_id, g.month::date AS month FROM"
    " (SELECT place_id, category_id, min(month) AS first FROM d GROUP BY 1, 2) f"
    " CROSS JOIN latest CROSS JOIN LATERAL generate_series(f.first,"
    " greatest(latest.month, (SELECT max(month) FROM d)), interval '1 month') AS g(month)"
    " UNION"
    " SELECT b.place_id, b.category_id, g.month::date FROM latest"
    " JOIN reporting_monthbalance b ON b.month = latest.month"
    " CROSS JOIN LATERAL generate_series(latest.month + interval '1 month',"
    " (SELECT max(month) FROM d), interval '1 month') AS g(month))"
    " INSERT INTO reporting_monthbalance AS b"
    " (month, place_id, category_id, items, pieces, weight_kg)"
    " SELECT k.month, k.place_id, k.category_id,"
    " coalesce(o.items, 0) + coalesce(c.items, 0),"
    " coalesce(o.pieces, 0) + coalesce(c.pieces, 0),"
    " coalesce(o.weight_kg, 0) + coalesce(c.weight_kg, 0)"
    " FROM k LEFT JOIN LATERAL (SELECT p.items, p.pieces, p.weight_kg"
    " FROM reporting_monthbalance p WHERE p.place_id = k.place_id"
    " AND p.category_id = k.category_id AND p.month <= k.month"
    " ORDER BY p.month DESC LIMIT 1) o ON TRUE"
    " LEFT JOIN LATERAL (SELECT sum(d.items) AS items, sum(d.pieces) AS pieces,"
    " sum(d.weight_kg) AS weight_kg FROM d WHERE d.place_id = k.place_id"
    " AND d.category_id = k.category_id AND d.month <= k.month) c ON TRUE"
    " ON CONFLICT ON CONSTRAINT reporting_month_balance_key DO UPDATE SET"
    " items = EXCLUDED.items, pieces = EXCLUDED.pieces, weight_kg = EXCLUDED.weight_kg"
)

# MonthBalance from the net month rows of MovementTotal: a running sum per
# place and category, then carried to the latest month booked (dense).
MONTH_BALANCES_SQL = (
    "INSERT INTO reporting_monthbalance"
    " (month, place_id, category_id, items, pieces, weight_kg)"
    " WITH d AS (SELECT m.place_id, ty.category_id, m.period_start AS month,"
    " sum(m.items) AS items, sum(m.pieces) AS pieces, sum(m.weight_kg) AS weight_kg"
    " FROM reporting_movementtotal m JOIN stock_itemtype ty ON ty.id = m.item_type_id"
    " WHERE m.grain = 5 GROUP BY 1, 2, 3),"
    " f AS (SELECT place_id, category_id, min(month) AS first FROM d GROUP BY 1, 2),"
    " k AS (SELECT f.place_id, f.category_id, g.month::date AS month FROM f"
    " CROSS JOIN LATERAL generate_series(f.first, (SELECT max(month) FROM d),"
    " interval '1 month') AS g(month))"
    " SELECT k.month, k.place_id, k.category_id,"
    " sum(coalesce(d.items, 0)) OVER w, sum(coalesce(d.pieces, 0)) OVER w,"
    " sum(coalesce(d.weight_kg, 0)) OVER w"
    " FROM k LEFT JOIN d USING (place_id, category_id, month)"
    " WINDOW w AS (PARTITION BY k.place_id, k.category_id ORDER BY k.month)"
)


def month_balances_rebuild() -> int:
    """Recompute MonthBalance from MovementTotal (after a rebuild, and when a
    type moves to another category: the balances are kept per category).
    Returns the number of rows."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM reporting_monthbalance")
        cursor.execute(MONTH_BALANCES_SQL)
        return cursor.rowcount


def type_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    """post_save of an item type: its category may have changed."""
    if created or (update_fields is not None and "category" not in update_fields):
        return
    if MonthBalance.objects.exists():
        month_balances_rebuild()


# Transitions of the positions' items, classified as the positions say.
_BOOKED = (
    "SELECT t.*, p.item_type_id, p.source, "  # noqa: S608 - constants
    + _MARKED
    + " AS marked FROM reporting_itemtransition t"
    " JOIN reporting_itemposition p ON p.item_id = t.item_id"
)


def place_in_db(place):
    return TRANSIT_PLACE if place == TRANSIT else place


def place_of_db(value):
    return TRANSIT if value == TRANSIT_PLACE else value


def _state_of(status, place, pieces, weight) -> State | None:
    if not status:
        return None
    return State(status, place_of_db(place), pieces, Decimal(weight))


def _position_params(info: ItemInfo, state: State | None, last_day) -> dict:
    return {
        "item": info.id,
        "status": state.status if state is not None else "",
        "place": (
            place_in_db(state.place) if state is not None and state.place is not None else None
        ),
        "pieces": state.pieces if state is not None else 0,
        "weight": state.weight_kg if state is not None else Decimal(0),
        "last_day": last_day,
        "item_type": info.item_type_id,
        "source": info.source,
        "received_on": info.received_on,
        "mark": info.cites_mark,
        "number": info.sms_number,
    }


def _transition_params(t) -> dict:
    before, after = t.before, t.after
    return {
        "sequence": t.sequence,
        "item": t.item_id,
        "day": t.day,
        "status_after": t.status_after,
        "place_before": place_in_db(before.place) if before else None,
        "pieces_before": before.pieces if before else 0,
        "weight_before": before.weight_kg if before else Decimal(0),
        "line_out": t.line_out[0] if t.line_out else "",
        "detail_out": (t.line_out[1] or "") if t.line_out else "",
        "place_after": place_in_db(after.place) if after else None,
        "pieces_after": after.pieces if after else 0,
        "weight_after": after.weight_kg if after else Decimal(0),
        "line_in": t.line_in[0] if t.line_in else "",
        "detail_in": (t.line_in[1] or "") if t.line_in else "",
    }


_READ_SQL = (
    "SELECT i.item_type_id, i.source, i.received_on, i.cites_mark, i.sms_number,"
    " p.item_id, p.status, p.place_id, p.pieces, p.weight_kg, p.last_day,"
    " p.item_type_id, p.source, p.received_on, p.cites_mark"
    " FROM stock_stockitem i LEFT JOIN reporting_itemposition p ON p.item_id = i.id"
    " WHERE i.id = %s"
)


def _entry_appended(entry: LedgerEntry) -> None:
    """Bring the aggregates up to date with ``entry`` (just saved, in the
    transaction of the change, under the ledger head lock)."""
    if entry.event not in STATE_EVENTS or entry.item_id is None:
        return  # records only (discrepancies, checks) change no figure
    with connection.cursor() as cursor:
        cursor.execute(_READ_SQL, [entry.item_id])
        row = cursor.fetchone()
        if row is None:
            return  # not an item of the register: the replay ignores it too
        type_id, source, received_on, mark, number = row[:5]
        info = ItemInfo(entry.item_id, number, type_id, None, source, received_on, mark)
        zone = country_zone()
        if row[5] is not None and tuple(row[11:15]) != (type_id, source, received_on, mark):
            _rebook_item(cursor, info, zone)
            return
        state = _state_of(*row[6:10]) if row[5] is not None else None
        last_day = row[10] if row[5] is not None else None
        payload = entry.payload or {}
        day = effective_day(
            entry.event,
            entry.occurred_at.astimezone(zone).date(),
            received_on=received_on,
            archived_on=payload.get("archived_on"),
            last_day=last_day,
        )
        state, transition = step(
            info, state, entry.sequence, day, entry.event, entry.site_id, payload
        )
        params = _position_params(info, state, day)
        if transition is None:
            cursor.execute(_UPSERT_POSITION, params)
            return
        params.update(_transition_params(transition))
        params["marked"] = 1 if mark else 0
        relation = (
            "SELECT tr.*, %(item_type)s::bigint AS item_type_id, %(source)s::text AS source,"
            " %(marked)s::int AS marked FROM tr"
        )
        cursor.execute(
            _contribute_sql(
                relation,
                1,
                ctes=f"pos AS ({_UPSERT_POSITION}),"
                f" tr AS (INSERT INTO reporting_itemtransition ({_TRANSITION_COLUMNS})"
                f"{_INSERT_TRANSITION_VALUES} RETURNING *), ",
            ),
            params,
        )


def entries_appended(entries: list[LedgerEntry]) -> None:
    """The aggregates brought up to date with ``entries`` (the ledger's one
    listener form: a list, in ledger order). For a batch (the register import,
    the ODK sync, a whole transfer dispatched or received, a stock-take's
    sign-off): one read for all the items, the writes sent together. The same
    steps and the same result as one by one. A batch that names an item twice
    (an imported item registered, then archived) is cut where the item comes
    again, each part in turn: one such row no longer sends the whole batch
    entry by entry (each entry moves the month-end balances of every month
    since its day)."""
    # No JIT for these statements: their estimates (a generate_series over
    # months, CTEs) pass PostgreSQL's JIT threshold, and compiling took ~0.7 s
    # of a statement that runs in 3 ms — on every registration, every batch
    # of an import (44 s of database CPU for 25,000 rows), every transfer.
    # SET LOCAL: for the rest of this transaction only (the ledger's).
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
    part, seen = [], set()
    for entry in entries:
        if entry.event not in STATE_EVENTS or entry.item_id is None:
            continue  # records only (discrepancies, checks) change no figure
        if entry.item_id in seen:
            _batch_appended(part)
            part, seen = [], set()
        part.append(entry)
        seen.add(entry.item_id)
    _batch_appended(part)


def _batch_appended(wanted: list[LedgerEntry]) -> None:
    """``entries_appended`` for entries that change figures, each naming a
    different item; a list of one, or an item whose classification changed
    since it was booked (a rebooking), goes entry by entry."""
    ids = [str(e.item_id) for e in wanted]
    if len(wanted) < 2:
        for entry in wanted:
            _entry_appended(entry)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.id, "
            + _READ_SQL[len("SELECT ") :].replace("i.id = %s", "i.id = ANY(%s::uuid[])"),
            [ids],
        )
        rows = {str(row[0]): row[1:] for row in cursor.fetchall()}
        if len(rows) != len(ids) or any(
            row[5] is not None and tuple(row[11:15]) != tuple(row[:4]) for row in rows.values()
        ):
            for entry in wanted:
                _entry_appended(entry)
            return
        zone = country_zone()
        positions, transitions = [], []
        for entry in wanted:
            row = rows[str(entry.item_id)]
            type_id, source, received_on, mark, number = row[:5]
            info = ItemInfo(entry.item_id, number, type_id, None, source, received_on, mark)
            booked = row[5] is not None
            payload = entry.payload or {}
            day = effective_day(
                entry.event,
                entry.occurred_at.astimezone(zone).date(),
                received_on=received_on,
                archived_on=payload.get("archived_on"),
                last_day=row[10] if booked else None,
            )
            state, transition = step(
                info,
                _state_of(*row[6:10]) if booked else None,
                entry.sequence,
                day,
                entry.event,
                entry.site_id,
                payload,
            )
            params = _position_params(info, state, day)
            if transition is None:
                positions.append(params)
                continue
            params.update(_transition_params(transition))
            params["marked"] = 1 if mark else 0
            transitions.append(params)
        # Positions, then transitions, then their movements in one statement
        # (grouped by key: the batch's movements add up as one by one).
        cursor.executemany(_UPSERT_POSITION, positions + transitions)
        if transitions:
            cursor.executemany(
                f"INSERT INTO reporting_itemtransition ({_TRANSITION_COLUMNS})"
                + _INSERT_TRANSITION_VALUES,
                transitions,
            )
            cursor.execute(
                _contribute_sql(_BOOKED + " WHERE t.sequence = ANY(%(sequences)s)", 1),
                {"sequences": [t["sequence"] for t in transitions]},
            )


def _rebook_item(cursor, info: ItemInfo, zone) -> None:
    """The item's classification changed: take its movements off under the
    old one, replay its ledger entries and book them under the new one."""
    where = " WHERE t.item_id = %(item)s"
    cursor.execute(_contribute_sql(_BOOKED + where, -1), {"item": info.id})
    cursor.execute("DELETE FROM reporting_itemtransition WHERE item_id = %s", [info.id])
    transitions: list = []
    states = replay_rows(
        {info.id: info},
        ledger_rows(LedgerEntry.objects.filter(item_id=info.id), zone),
        transitions.append,
    )
    state, last_day = states.get(info.id, (None, None))
    cursor.execute(_UPSERT_POSITION, _position_params(info, state, last_day))
    if transitions:
        cursor.executemany(
            f"INSERT INTO reporting_itemtransition ({_TRANSITION_COLUMNS})"
            + _INSERT_TRANSITION_VALUES,
            [_transition_params(t) for t in transitions],
        )
        cursor.execute(_contribute_sql(_BOOKED + where, 1), {"item": info.id})


# --- Rebuild ------------------------------------------------------------------------------


def _item_infos() -> dict:
    rows = raw_rows(
        StockItem.objects.values_list(
            "pk", "sms_number", "item_type_id", "source", "received_on", "cites_mark"
        )
    )
    return {
        pk: ItemInfo(pk, number, type_id, None, source, received_on, mark)
        for pk, number, type_id, source, received_on, mark in rows
    }


@transaction.atomic
def rebuild() -> dict:
    """Recompute the aggregates of the current country from its whole ledger.

    Holds the ledger head lock throughout, so no entry is appended meanwhile.
    The replay runs in Python (the reference, reporting.figures); rows go in
    with COPY and the movement totals are one INSERT … SELECT … GROUP BY.
    Returns counts: items, transitions, movement rows."""
    LedgerHead.objects.select_for_update().filter(pk=1).first()
    zone = country_zone()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE reporting_itemposition, reporting_itemtransition, reporting_movementtotal,"
            " reporting_monthbalance"
        )
    infos = _item_infos()
    buffer: list = []
    raw = connection.connection  # psycopg: COPY

    def flush():
        if not buffer:
            return
        with raw.cursor() as copy_cursor:
            with copy_cursor.copy(
                f"COPY reporting_itemtransition ({_TRANSITION_COLUMNS}) FROM STDIN"
            ) as copy:
                for values in buffer:
                    copy.write_row(values)
        buffer.clear()

    count = 0

    def emit(t):
        nonlocal count
        p = _transition_params(t)
        buffer.append(
            (
                p["sequence"],
                p["item"],
                p["day"],
                p["status_after"],
                p["place_before"],
                p["pieces_before"],
                p["weight_before"],
                p["line_out"],
                p["detail_out"],
                p["place_after"],
                p["pieces_after"],
                p["weight_after"],
                p["line_in"],
                p["detail_in"],
            )
        )
        count += 1

    # Transitions are buffered and copied once the replay has read the
    # whole ledger: a COPY can't run while a server-side cursor is open.
    states = replay_rows(infos, ledger_rows(LedgerEntry.objects.all(), zone), emit)
    flush()
    with raw.cursor() as copy_cursor:
        with copy_cursor.copy(
            f"COPY reporting_itemposition ({_POSITION_COLUMNS}) FROM STDIN"
        ) as copy:
            for item_id, (state, last_day) in states.items():
                p = _position_params(infos[item_id], state, last_day)
                copy.write_row(
                    (
                        p["item"],
                        p["status"],
                        p["place"],
                        p["pieces"],
                        p["weight"],
                        p["last_day"],
                        p["item_type"],
                        p["source"],
                        p["received_on"],
                        p["mark"],
                        p["number"],
                    )
                )
    with connection.cursor() as cursor:
        cursor.execute(_contribute_sql(_BOOKED, 1, balances=False))
        movements = cursor.rowcount
    month_balances_rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reporting_itemposition")
        cursor.execute("ANALYZE reporting_itemtransition")
        cursor.execute("ANALYZE reporting_movementtotal")
        cursor.execute("ANALYZE reporting_monthbalance")
    return {"items": len(states), "transitions": count, "movements": movements}
