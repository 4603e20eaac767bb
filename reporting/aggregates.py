"""Report figures read from the aggregates (country schema).

``Totals`` is the second engine of reporting.definitions.Figures: it answers
the same questions as reporting.figures.History, from the same definitions,
with SQL over the tables reporting.totals keeps in step with the custody
ledger instead of replaying the ledger: movements summed over a period or up
to a day are sums over whole years, then months, then days of MovementTotal
(a few thousand rows whatever the number of items); the items held at a
date are the items' current positions, except for the few that changed
since, whose state at that date is their last ItemTransition up to it. The
replay stays the reference, used for a ledger cut-off and in the tests that
check the two agree.

``figures_for`` picks the source: the aggregates, unless a ledger cut-off is
asked for or the country's aggregates were never built (then the replay,
and a warning: run ``manage.py rebuild_report_totals``).
"""

import datetime
import logging

from django.db import connection

from ledger.models import LedgerEntry

from .definitions import (
    FIRST_DAY,
    ONE_DAY,
    TRANSFER_LINES,
    TRANSIT,
    Figures,
    Holding,
    ItemInfo,
    Measure,
    Rows,
    Transition,
    month_ends,
    month_last,
)
from .figures import History, ItemFilter, Scope, ledger_head_sequence
from .models import ItemPosition, MovementTotal
from .totals import place_in_db, place_of_db

logger = logging.getLogger(__name__)

__all__ = ["FIRST_DAY", "Totals", "cover", "figures_for", "totals_ready"]

YEAR, MONTH, DAY = MovementTotal.YEAR, MovementTotal.MONTH, MovementTotal.DAY
NET_YEAR, NET_MONTH = MovementTotal.NET_YEAR, MovementTotal.NET_MONTH
# The net rows (source, line and detail left blank) of a year or month.
NET_OF = {YEAR: NET_YEAR, MONTH: NET_MONTH}
# Figures._sums' columns in MovementTotal.
SQL_COLUMNS = {
    "place": "m.place_id",
    "item_type": "m.item_type_id",
    "source": "m.source",
    "line": "m.line",
    "detail": "m.detail",
    "month": "date_trunc('month', m.period_start)::date",
}


def _month_before(day: datetime.date) -> datetime.date:
    """The first day of the month before ``day``'s."""
    return (day.replace(day=1) - ONE_DAY).replace(day=1)


def cover(start: datetime.date, end: datetime.date, *, years: bool = True) -> list[tuple]:
    """The days [start, end] as whole years, then whole months, then days:
    [(grain, first period_start, last period_start)], at most five ranges.
    Without ``years``, as whole months and days (rows that each lie within
    one month)."""
    parts = []
    while start <= end:
        if (
            years
            and start.month == 1
            and start.day == 1
            and datetime.date(start.year, 12, 31) <= end
        ):
            last = end.year if end == datetime.date(end.year, 12, 31) else end.year - 1
            parts.append((YEAR, start, datetime.date(last, 1, 1)))
            if last == datetime.MAXYEAR:
                break
            start = datetime.date(last + 1, 1, 1)
        elif start.day == 1 and month_last(start) <= end:
            last = end.replace(day=1) if month_last(end) == end else _month_before(end)
            if years:
                last = min(last, datetime.date(start.year, 12, 1))
            parts.append((MONTH, start, last))
            start = month_last(last) + ONE_DAY
        else:
            last = min(end, month_last(start))
            parts.append((DAY, start, last))
            start = last + ONE_DAY
    return parts


def _ranges_sql(ranges: list[tuple], params: list) -> str:
    if not ranges:
        return "FALSE"
    terms = []
    for grain, first, last in ranges:
        terms.append("(m.grain = %s AND m.period_start BETWEEN %s AND %s)")
        params += [grain, first, last]
    return "(" + " OR ".join(terms) + ")"


def totals_ready() -> bool:
    """False when the country has ledger entries but no aggregates yet."""
    return ItemPosition.objects.exists() or not LedgerEntry.objects.exists()


def figures_for(*, scope: Scope, item_filter: ItemFilter | None = None, cutoff=None) -> Figures:
    if cutoff is None and totals_ready():
        return Totals(scope=scope, item_filter=item_filter)
    if cutoff is None:
        logger.warning("report aggregates missing: replaying the ledger; run rebuild_report_totals")
    return History(scope=scope, item_filter=item_filter, cutoff=cutoff)


class Totals(Figures):
    """Figures of the items that pass ``item_filter``, at the places in ``scope``."""

    def __init__(self, *, scope: Scope, item_filter: ItemFilter | None = None):
        super().__init__(
            scope=scope, item_filter=item_filter or ItemFilter(), cutoff=ledger_head_sequence()
        )
        wanted = self.item_filter
        type_ids = None
        if wanted.category_ids is not None or wanted.category_kinds is not None:
            type_ids = {
                pk
                for pk, t in self.types.items()
                if (wanted.category_ids is None or t.category_id in wanted.category_ids)
                and (wanted.category_kinds is None or t.category.kind in wanted.category_kinds)
            }
        if wanted.item_type_ids is not None:
            type_ids = set(wanted.item_type_ids) & (
                type_ids if type_ids is not None else set(self.types)
            )
        self._type_ids = None if type_ids is None else sorted(type_ids)
        self._sources = None if wanted.sources is None else sorted(wanted.sources)
        self._places = (
            None
            if scope.site_ids is None
            else sorted(place_in_db(p) for p in scope.site_ids if p is not None)
        )

    # -- SQL pieces ----------------------------------------------------------------

    def _class_sql(self, alias: str, params: list) -> str:
        sql = ""
        if self._type_ids is not None:
            sql += f" AND {alias}.item_type_id = ANY(%s)"
            params.append(self._type_ids)
        if self._sources is not None:
            sql += f" AND {alias}.source = ANY(%s)"
            params.append(self._sources)
        return sql

    def _place_sql(self, column: str, params: list) -> str:
        if self._places is None:
            return ""
        params.append(self._places)
        return f" AND {column} = ANY(%s)"

    def _info(self, item_id, type_id, source, received_on, mark, number) -> ItemInfo:
        info = self.items.get(item_id)
        if info is None:
            item_type = self.types.get(type_id)
            info = self.items[item_id] = ItemInfo(
                item_id,
                number,
                type_id,
                item_type.category_id if item_type else None,
                source,
                received_on,
                mark,
            )
        return info

    # -- the dashboard's curves ---------------------------------------------------------

    def monthly_balances(self, *, first: datetime.date, last: datetime.date, by: str) -> dict:
        """Figures.monthly_balances from MonthBalance: one row per place,
        category and month shown (and the month before), whatever the number
        of items or the length of the history. A filter on types or sources
        is not kept there: the movements are summed instead."""
        wanted = self.item_filter
        if by not in ("category", "site") or (
            wanted.item_type_ids is not None or wanted.sources is not None
        ):
            return super().monthly_balances(first=first, last=last, by=by)
        months = month_ends(first, last)
        if not months:
            return {"months": months, "series": {}}
        starts = [m.replace(day=1) for m in months]
        with connection.cursor() as cursor:
            # Rows run to the latest month booked: a pair's balance after it
            # is its balance then (nothing moved since). Asked first, so that
            # the range below is literal and the planner sees how much of
            # the table it is (a store's rows by the key's index).
            cursor.execute("SELECT max(month) FROM reporting_monthbalance")
            latest = cursor.fetchone()[0]
            if latest is None:
                return {"months": months, "series": {}}
            params: list = [min(_month_before(starts[0]), latest), starts[-1]]
            filters = self._place_sql("b.place_id", params)
            if self._type_ids is not None:
                params.append(sorted({self.types[pk].category_id for pk in self._type_ids}))
                filters += " AND b.category_id = ANY(%s)"
            cursor.execute(
                "SELECT b.place_id, b.category_id, b.month, b.items, b.pieces, b.weight_kg"  # noqa: S608
                " FROM reporting_monthbalance b WHERE b.month BETWEEN %s AND %s"
                f"{filters} ORDER BY b.month",
                params,
            )
            rows = cursor.fetchall()
        index = {start: i for i, start in enumerate(starts)}
        # Each pair's balance at each month end: its row, or carried from its
        # last row before (rows come in month order).
        pairs: dict = {}
        for place, category, month, items, pieces, kg in rows:
            points = pairs.get((place, category))
            if points is None:
                points = pairs[(place, category)] = [None] * len(months)
            # A month before the first shown (the one before, or the latest
            # booked) stands for all of them until a later row.
            measure = Measure(int(items), int(pieces), kg)
            for i in range(index.get(month, 0), len(months)):
                points[i] = measure
        series: dict = {}
        for (place, category), points in pairs.items():
            key = category if by == "category" else place_of_db(place)
            total = series.setdefault(key, [Measure() for _ in months])
            for i, measure in enumerate(points):
                if measure is not None:
                    total[i].add(measure)
        return {"months": months, "series": series}

    # -- the engine's reads (reporting.definitions.Figures) -------------------------

    def _sums(self, parts: dict, columns: tuple) -> list[tuple]:
        """The MovementTotal rows of each part's days summed per ``columns``,
        in scope: one statement, each row read once (the parts are disjoint)."""
        by_month = "month" in columns
        ranges = {
            name: cover(first, last, years=not by_month) for name, (first, last) in parts.items()
        }
        if (
            self._sources is None
            and not {"source", "line", "detail"} & set(columns)
            and all(grain in NET_OF for r in ranges.values() for grain, _lo, _hi in r)
        ):
            # The net rows: one per place, type and period, not per source and line.
            ranges = {
                name: [(NET_OF[grain], lo, hi) for grain, lo, hi in r] for name, r in ranges.items()
            }
        params: list = []
        cases = " ".join(
            f"WHEN {_ranges_sql(r, params)} THEN '{name}'" for name, r in ranges.items()
        )
        where = " OR ".join(_ranges_sql(r, params) for r in ranges.values())
        filters = self._class_sql("m", params) + self._place_sql("m.place_id", params)
        sql_columns = dict(SQL_COLUMNS)
        if all(grain != DAY for r in ranges.values() for grain, _lo, _hi in r):
            sql_columns["month"] = "m.period_start"  # month rows only: their own month
        selected = "".join(f", {sql_columns[c]}" for c in columns)
        groups = ", ".join(str(n) for n in range(1, len(columns) + 2))
        sql = (
            f"SELECT CASE {cases} END{selected},"  # noqa: S608 - our own column names
            " sum(m.items), sum(m.pieces), sum(m.weight_kg), sum(m.marked)"
            f" FROM reporting_movementtotal m WHERE ({where}){filters} GROUP BY {groups}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if "place" not in columns:
            return rows
        at = columns.index("place") + 1
        return [(*row[:at], place_of_db(row[at]), *row[at + 1 :]) for row in rows]

    # -- items ----------------------------------------------------------------------------

    _INFO = "p.item_type_id, p.source, p.received_on, p.cites_mark, p.sms_number"

    def _states_at(self, day: datetime.date, *, marked_only: bool = False) -> list:
        sql, params = self._states_sql(day, marked_only=marked_only)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _states_sql(
        self, day: datetime.date, *, marked_only: bool = False, annex: bool = False
    ) -> tuple[str, list]:
        """[(item_id, place, pieces, kg, type, source, received_on, mark, number)]
        of the items held (at a site or in transit) at the end of ``day``:
        the current position of the items unchanged since, else the state
        their last transition up to ``day`` left them in. With ``annex``, the
        marked ones only, as [(mark, number, type, source, pieces, kg, place)]:
        the annex's own columns, nothing to unpack per row."""
        params: list = [day]
        marked = " AND coalesce(p.cites_mark, '') <> ''" if marked_only or annex else ""
        if annex:
            now_columns = (
                "p.cites_mark, p.sms_number, p.item_type_id, p.source,"
                " p.pieces, p.weight_kg, p.place_id"
            )
            then_columns = (
                "s.cites_mark, s.sms_number, s.item_type_id, s.source,"
                " s.pieces_after, s.weight_after, s.place_after"
            )
        else:
            now_columns = f"p.item_id, p.place_id, p.pieces, p.weight_kg, {self._INFO}"
            then_columns = (
                "s.item_id, s.place_after, s.pieces_after, s.weight_after,"
                " s.item_type_id, s.source, s.received_on, s.cites_mark, s.sms_number"
            )
        now = (
            f"SELECT {now_columns}"  # noqa: S608
            " FROM reporting_itemposition p"
            f" WHERE p.last_day <= %s AND p.status IN ('held', 'transit'){marked}"
            + self._class_sql("p", params)
            + self._place_sql("p.place_id", params)
        )
        params.append(day)
        params.append(day)
        then = (
            f"SELECT {then_columns} FROM ("  # noqa: S608
            " SELECT DISTINCT ON (t.item_id) t.item_id, t.status_after, t.place_after,"
            f" t.pieces_after, t.weight_after, {self._INFO}"
            " FROM reporting_itemposition p"
            " JOIN reporting_itemtransition t ON t.item_id = p.item_id"
            f" WHERE p.last_day > %s AND t.day <= %s{marked}"
            + self._class_sql("p", params)
            + " ORDER BY t.item_id, t.sequence DESC) s"
            " WHERE s.status_after IN ('held', 'transit')"
            + self._place_sql("s.place_after", params)
        )
        return f"{now} UNION ALL {then}", params

    def _held(self, day: datetime.date, *, marked_only: bool = False) -> list[tuple]:
        return [
            (self._info(item_id, *info), Holding(place_of_db(place), pieces, kg))
            for item_id, place, pieces, kg, *info in self._states_at(day, marked_only=marked_only)
        ]

    def annex_at(self, day: datetime.date) -> Rows:
        """The annex's rows (annex_row()'s columns) in the database's order by
        mark, then SMS number (byte order: as Python sorts the replay's), read
        only when used: a large country's annex is streamed into its export,
        and the figures never wait for it."""
        sql, params = self._states_sql(day, annex=True)
        return Rows(
            sql=f"SELECT * FROM ({sql}) annex",  # noqa: S608 - our own SQL
            params=params,
            order='cites_mark COLLATE "C", sms_number COLLATE "C"',
        ).map(_annex_place)

    def _annex_rows(self, day: datetime.date) -> list[tuple]:
        return list(self.annex_at(day))

    def missing_at(self, day: datetime.date) -> dict:
        """{item_id: Holding as last held} of the items recorded missing at the
        end of ``day``, at places in scope: their last transition up to
        ``day`` took them to missing, from that holding."""
        params: list = [day, day]
        sql = (
            "SELECT s.item_id, s.place_before, s.pieces_before, s.weight_before,"  # noqa: S608
            " s.item_type_id, s.source, s.received_on, s.cites_mark, s.sms_number FROM ("
            " SELECT DISTINCT ON (t.item_id) t.item_id, t.status_after, t.place_before,"
            f" t.pieces_before, t.weight_before, {self._INFO}"
            " FROM reporting_itemtransition t"
            " JOIN reporting_itemposition p ON p.item_id = t.item_id"
            " WHERE t.item_id IN (SELECT x.item_id FROM reporting_itemtransition x"
            "   WHERE x.status_after = 'missing' AND x.day <= %s)"
            " AND t.day <= %s"
            + self._class_sql("p", params)
            + " ORDER BY t.item_id, t.sequence DESC) s"
            " WHERE s.status_after = 'missing' AND s.place_before IS NOT NULL"
            + self._place_sql("s.place_before", params)
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        missing = {}
        for item_id, place, pieces, kg, *info in rows:
            self._info(item_id, *info)
            missing[item_id] = Holding(place_of_db(place), pieces, kg)
        return missing

    def _sides_sql(self, start, end, params: list, *, no_transfers: bool) -> str:
        """Both sides of the transitions of [start, end] as rows (sequence,
        side order, sign, place, pieces, kg, line, detail, day, status_after,
        item columns), in scope."""
        sides = []
        for order, (sign, suffix, line) in enumerate(
            ((-1, "before", "line_out"), (1, "after", "line_in"))
        ):
            detail = "detail_out" if line == "line_out" else "detail_in"
            sql = (
                f"SELECT t.sequence, {order} AS side_order, {sign} AS sign,"  # noqa: S608
                f" t.place_{suffix} AS place, t.pieces_{suffix} AS pieces,"
                f" t.weight_{suffix} AS kg, t.{line} AS line, t.{detail} AS detail,"
                f" t.day, t.status_after, t.item_id, {self._INFO}"
                " FROM reporting_itemtransition t"
                " JOIN reporting_itemposition p ON p.item_id = t.item_id"
                f" WHERE t.day BETWEEN %s AND %s AND t.place_{suffix} IS NOT NULL"
            )
            params += [start, end]
            if no_transfers:
                sql += f" AND t.{line} NOT IN (%s, %s)"
                params += list(TRANSFER_LINES)
            sql += self._class_sql("p", params) + self._place_sql(f"t.place_{suffix}", params)
            sides.append(sql)
        return " UNION ALL ".join(sides)

    def _line_rows(self, rows) -> list[tuple]:
        result = []
        for (
            sequence,
            _o,
            sign,
            place,
            pieces,
            kg,
            line,
            detail,
            day,
            status,
            item_id,
            *info,
        ) in rows:
            self._info(item_id, *info)
            holding = Holding(place_of_db(place), pieces, kg)
            transition = Transition(
                item_id=item_id,
                sequence=sequence,
                day=day,
                line_out=(line, detail) if sign < 0 else None,
                line_in=(line, detail) if sign > 0 else None,
                before=holding if sign < 0 else None,
                after=holding if sign > 0 else None,
                status_after=status,
            )
            result.append((transition, sign, holding, (line, detail)))
        return result

    def _item_lines(self, start, end, *, heaviest: int | None = None) -> list[tuple]:
        """The Transitions carry the side read (the other side of the same
        change is its own row)."""
        params: list = []
        sql = self._sides_sql(start, end, params, no_transfers=heaviest is not None)
        if heaviest is None:
            sql += " ORDER BY 1, 2"
        else:
            sql += " ORDER BY 6 DESC, 1, 2 LIMIT %s"
            params.append(heaviest)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return self._line_rows(cursor.fetchall())


def _annex_place(row: tuple) -> tuple:
    # Place 0 in the table: in transit.
    return row if row[6] != 0 else (*row[:6], TRANSIT)
