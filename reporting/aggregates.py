"""Report figures read from the aggregates (country schema).

``Totals`` answers what reporting.figures.History answers — balances,
movements, the items held at a date, the monthly curves — with SQL over the
tables reporting.totals keeps in step with the custody ledger, instead of
replaying the ledger: a balance or a period is a sum over whole years, then
months, then days of MovementTotal (a few thousand rows whatever the number
of items); the items held at a date are the items' current positions, except
for the few that changed since, whose state at that date is their last
ItemTransition up to it. Same figures, same semantics (figures.py's module
docstring); the replay stays the reference, used for a ledger cut-off and in
the tests that check the two agree.

``figures_for`` picks the source: the aggregates, unless a ledger cut-off is
asked for or the country's aggregates were never built (then the replay,
and a warning: run ``manage.py rebuild_report_totals``).
"""

import datetime
import logging
from collections import defaultdict
from operator import itemgetter

from django.db import connection

from ledger.models import LedgerEntry
from stock.models import ItemType

from .figures import (
    TRANSFER_IN,
    TRANSFER_OUT,
    TRANSIT,
    History,
    Holding,
    ItemFilter,
    ItemInfo,
    Measure,
    Scope,
    Summary,
    Transition,
    bulk,
    ledger_head_sequence,
)
from .models import ItemPosition, MovementTotal
from .totals import place_in_db, place_of_db

logger = logging.getLogger(__name__)

YEAR, MONTH, DAY = MovementTotal.YEAR, MovementTotal.MONTH, MovementTotal.DAY
NET_YEAR, NET_MONTH = MovementTotal.NET_YEAR, MovementTotal.NET_MONTH
FIRST_DAY = datetime.date(1, 1, 1)
ONE_DAY = datetime.timedelta(days=1)
HELD = ("held", "transit")


def _month_last(day: datetime.date) -> datetime.date:
    nxt = datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return nxt - ONE_DAY


def _month_before(day: datetime.date) -> datetime.date:
    """The first day of the month before ``day``'s."""
    return (day.replace(day=1) - ONE_DAY).replace(day=1)


def cover(start: datetime.date, end: datetime.date) -> list[tuple]:
    """The days [start, end] as whole years, then whole months, then days:
    [(grain, first period_start, last period_start)], at most five ranges."""
    parts = []
    while start <= end:
        if start.month == 1 and start.day == 1 and datetime.date(start.year, 12, 31) <= end:
            last = end.year if end == datetime.date(end.year, 12, 31) else end.year - 1
            parts.append((YEAR, start, datetime.date(last, 1, 1)))
            if last == datetime.MAXYEAR:
                break
            start = datetime.date(last + 1, 1, 1)
        elif start.day == 1 and _month_last(start) <= end:
            last = end.replace(day=1) if _month_last(end) == end else _month_before(end)
            last = min(last, datetime.date(start.year, 12, 1))
            parts.append((MONTH, start, last))
            start = _month_last(last) + ONE_DAY
        else:
            last = min(end, _month_last(start))
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


def figures_for(*, scope: Scope, item_filter: ItemFilter | None = None, cutoff=None):
    if cutoff is None and totals_ready():
        return Totals(scope=scope, item_filter=item_filter)
    if cutoff is None:
        logger.warning("report aggregates missing: replaying the ledger; run rebuild_report_totals")
    return History(scope=scope, item_filter=item_filter, cutoff=cutoff)


class Totals:
    """Figures of the items that pass ``item_filter``, at the places in ``scope``."""

    def __init__(self, *, scope: Scope, item_filter: ItemFilter | None = None):
        self.scope = scope
        self.item_filter = item_filter or ItemFilter()
        self.cutoff = ledger_head_sequence()
        self.types = {t.pk: t for t in ItemType.objects.select_related("category")}
        self.items: dict = {}  # ItemInfo of the items the item-level reads returned
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

    def _key(self, group_by, place, type_id, source) -> tuple:
        parts = []
        for name in group_by:
            if name == "site":
                parts.append(place_of_db(place))
            elif name == "category":
                parts.append(self.types[type_id].category_id)
            elif name == "item_type":
                parts.append(type_id)
            elif name == "source":
                parts.append(source)
            else:
                raise ValueError(f"unknown grouping {name!r}")
        return tuple(parts)

    def _sums(self, parts: dict, columns: tuple) -> list:
        """[(part, *columns, items, pieces, kg, marked)]: the MovementTotal rows
        of each part ({name: ranges}) summed per ``columns``, in scope."""
        params: list = []
        cases = " ".join(
            f"WHEN {_ranges_sql(ranges, params)} THEN '{name}'" for name, ranges in parts.items()
        )
        where = " OR ".join(_ranges_sql(ranges, params) for ranges in parts.values())
        filters = self._class_sql("m", params) + self._place_sql("m.place_id", params)
        selected = "".join(f", m.{c}" for c in columns)
        groups = ", ".join(str(n) for n in range(1, len(columns) + 2))
        sql = (
            f"SELECT CASE {cases} END{selected},"  # noqa: S608 - our own column names
            " sum(m.items), sum(m.pieces), sum(m.weight_kg), sum(m.marked)"
            f" FROM reporting_movementtotal m WHERE ({where}){filters} GROUP BY {groups}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    # -- balances and movements ---------------------------------------------------------

    def summary(self, *, start: datetime.date, end: datetime.date, group_by=()) -> Summary:
        return self.summaries(periods=[(start, end)], group_by=group_by)[0]

    def summaries(self, *, periods: list[tuple], group_by=()) -> list[Summary]:
        columns = ("place_id", "item_type_id", "source", "line", "detail")
        results = []
        for start, end in periods:
            result = Summary(start=start, end=end, group_by=tuple(group_by))
            rows = self._sums(
                {"o": cover(FIRST_DAY, start - ONE_DAY), "p": cover(start, end)}, columns
            )
            for part, place, type_id, source, line, detail, items, pieces, kg, _m in rows:
                measure = Measure(int(items), int(pieces), kg)
                row = result.row(self._key(group_by, place, type_id, source))
                if part == "o":
                    row.opening.add(measure)
                else:
                    row.lines.setdefault((line, detail), Measure()).add(measure)
                row.closing.add(measure)
            for row in result.rows.values():
                # A line whose movements cancel out (in and out the same
                # period) is not a movement of the period.
                row.lines = {k: m for k, m in row.lines.items() if m}
            result.drop_empty()
            result.check()
            results.append(result)
        return results

    def balances_at(self, day: datetime.date, group_by=()) -> dict:
        """{key: (Measure held at the end of ``day``, marked items among them)}."""
        result: dict = {}
        rows = self._sums({"c": cover(FIRST_DAY, day)}, ("place_id", "item_type_id", "source"))
        for _part, place, type_id, source, items, pieces, kg, marked in rows:
            key = self._key(group_by, place, type_id, source)
            measure, count = result.get(key, (Measure(), 0))
            measure.add(Measure(int(items), int(pieces), kg))
            result[key] = (measure, count + int(marked))
        return {k: v for k, v in result.items() if v[0] or v[1]}

    def monthly_balances(self, *, first: datetime.date, last: datetime.date, by: str) -> dict:
        """As History.monthly_balances: the balance at each month end, by
        "category" or "site", from whole-year and whole-month rows only."""
        months = []
        month = first.replace(day=1)
        while month <= last.replace(day=1):
            months.append(_month_last(month))
            month = _month_last(month) + ONE_DAY
        index = {(m.year, m.month): i for i, m in enumerate(months)}
        first_month = first.replace(day=1)
        column = "place_id" if by == "site" else "item_type_id"
        opening = cover(FIRST_DAY, first_month - ONE_DAY)  # whole years and months
        month_grain = MONTH
        if self._sources is None:
            # The net rows: one per place, type and period, not per source and line.
            net = {YEAR: NET_YEAR, MONTH: NET_MONTH}
            opening = [(net[grain], lo, hi) for grain, lo, hi in opening]
            month_grain = NET_MONTH
        rows = self._sums(
            {"o": opening, "m": [(month_grain, first_month, last.replace(day=1))]},
            (column, "period_start"),
        )
        opening: dict = defaultdict(Measure)
        deltas: dict = defaultdict(lambda: [Measure() for _ in months])
        for part, value, period, items, pieces, kg, _marked in rows:
            key = place_of_db(value) if by == "site" else self.types[value].category_id
            measure = Measure(int(items), int(pieces), kg)
            if part == "o":
                opening[key].add(measure)
            else:
                deltas[key][index[(period.year, period.month)]].add(measure)
        series = {}
        for key in set(deltas) | set(opening):
            running = opening[key].copy()
            points = []
            for delta in deltas[key] if key in deltas else [Measure() for _ in months]:
                running.add(delta)
                points.append(running.copy())
            series[key] = points
        return {"months": months, "series": series}

    # -- items ----------------------------------------------------------------------------

    _INFO = "p.item_type_id, p.source, p.received_on, p.cites_mark, p.sms_number"

    def _states_at(
        self, day: datetime.date, *, marked_only: bool = False, annex: bool = False
    ) -> list:
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
        with connection.cursor() as cursor:
            cursor.execute(f"{now} UNION ALL {then}", params)
            return cursor.fetchall()

    def holdings_at(self, day: datetime.date) -> dict:
        """{item_id: Holding} of the items held at the end of ``day``; their
        ItemInfo in ``self.items``."""
        held = {}
        for item_id, place, pieces, kg, *info in self._states_at(day):
            self._info(item_id, *info)
            held[item_id] = Holding(place_of_db(place), pieces, kg)
        return held

    def marked_holdings_at(self, day: datetime.date) -> list[tuple]:
        """[(ItemInfo, Holding)] of the marked items held at the end of ``day``."""
        return [
            (self._info(item_id, *info), Holding(place_of_db(place), pieces, kg))
            for item_id, place, pieces, kg, *info in self._states_at(day, marked_only=True)
        ]

    def annex_at(self, day: datetime.date) -> list[tuple]:
        """[(mark, SMS number, type id, source, pieces, kg, place)] of the
        marked items held at the end of ``day``, by mark (plain tuples: a
        large country's annex has hundreds of thousands of rows)."""
        with bulk():
            # Rows as fetched, but those in transit (place 0 in the table).
            rows = [
                row if row[6] != 0 else (*row[:6], TRANSIT)
                for row in self._states_at(day, annex=True)
            ]
            rows.sort(key=itemgetter(0))
        return rows

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

    def missing_total_at(self, day: datetime.date) -> Measure:
        total = Measure()
        for holding in self.missing_at(day).values():
            total.add(Measure(1, holding.pieces, holding.weight_kg))
        return total

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
                params += [TRANSFER_IN, TRANSFER_OUT]
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

    def item_lines(self, *, start: datetime.date, end: datetime.date) -> list[tuple]:
        """[(Transition, side sign, Holding, line)] of [start, end] in scope, in
        ledger order. The Transition carries the side read (the other side
        of the same change is its own row)."""
        params: list = []
        sql = self._sides_sql(start, end, params, no_transfers=False)
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} ORDER BY 1, 2", params)
            return self._line_rows(cursor.fetchall())

    def largest_item_lines(self, *, start, end, limit: int) -> list[tuple]:
        """The ``limit`` heaviest item movements of [start, end] other than
        transfers: [(Transition, side, Holding, line, ItemInfo)]."""
        params: list = []
        sql = self._sides_sql(start, end, params, no_transfers=True)
        params.append(limit)
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} ORDER BY 6 DESC, 1, 2 LIMIT %s", params)
            rows = self._line_rows(cursor.fetchall())
        return [(*row, self.items[row[0].item_id]) for row in rows]
