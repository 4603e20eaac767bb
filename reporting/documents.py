"""Reports as documents (country schema): one neutral structure — a title, a
header block, tables with typed columns, paragraphs, signature lines — that
the web page, XLSX, CSV and PDF all render (reporting.exports), so the four
always show the same figures.

``build(kind, params, user=..., reasons=..., cutoff=...)`` is the one entry
point; ``params`` are plain JSON values (reporting.forms cleans them) and
the user's site scope decides what is shown (reporting.figures.Scope).
"""

import contextlib
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from core import display
from ledger import checkpoints
from ledger.models import LedgerEntry
from stock.models import ArchiveRecord, ItemCategory, ItemType, Site, StockItem
from tenants.current import current_country

from . import cites
from .aggregates import figures_for
from .figures import (
    ADDED,
    CORRECTED,
    FOUND,
    MISSING,
    REMOVED,
    TRANSFER_IN,
    TRANSFER_OUT,
    TRANSIT,
    ItemFilter,
    Measure,
    Scope,
    country_zone,
)

TEXT, INT, KG, DATE, YEAR = "text", "int", "kg", "date", "year"
GROUPINGS = {
    "site": gettext_lazy("Site"),
    "category": gettext_lazy("Category"),
    "item_type": gettext_lazy("Type"),
    "source": gettext_lazy("Source"),
}


@dataclass
class Column:
    label: str
    kind: str = TEXT


@dataclass
class Table:
    title: str
    columns: list
    # A list, or for a long list (the CITES annex) a reporting.figures.Rows
    # read from the database only when it is iterated (exports stream it).
    rows: list = field(default_factory=list)
    # Per row, an optional link (the detailed report behind the figures).
    links: list = field(default_factory=list)
    note: str = ""
    # Rows whose first cell starts a group (shown in bold).
    strong_rows: set = field(default_factory=set)
    # A long list (the CITES annex of marks): a PDF too large to print
    # refers to the XLSX sheet instead (reporting.exports).
    annex: bool = False
    # The XLSX sheet's name when the title is too long for 31 characters.
    sheet: str = ""


@dataclass
class Document:
    kind: str
    title: str
    meta: list  # [(label, value)]
    tables: list
    paragraphs: list = field(default_factory=list)  # [(heading, text)]
    signatures: bool = False
    landscape: bool = False
    ledger_sequence: int | None = None
    # The signed ledger checkpoint printed on the PDF (ledger.checkpoints:
    # a Checkpoint, or Unavailable when the ledger's end did not verify).
    checkpoint: object = None
    site_ids: list | None = None
    charts: list = field(default_factory=list)  # [(title, svg)] on the web page only
    # A CITES declaration of a year not ended: every page and sheet says so.
    provisional: bool = False


# --- Labels ---------------------------------------------------------------------


class Labels:
    def __init__(self):
        self.sites = {s.pk: s for s in Site.objects.all()}
        self.types = {t.pk: t for t in ItemType.objects.select_related("category")}
        self.categories = {c.pk: c for c in ItemCategory.objects.all()}

    def place(self, place) -> str:
        if place == TRANSIT:
            return _("In transit")
        site = self.sites.get(place)
        return site.name if site else str(place)

    def value(self, grouping: str, value) -> str:
        if grouping == "site":
            return self.place(value)
        if grouping == "category":
            category = self.categories.get(value)
            return category.label() if category else str(value)
        if grouping == "item_type":
            item_type = self.types.get(value)
            return item_type.label() if item_type else str(value)
        if grouping == "source":
            return source_label(value)
        return str(value)


def source_label(value) -> str:
    try:
        return str(StockItem.Source(value).label)
    except ValueError:
        return str(value or "—")


def reason_label(value) -> str:
    try:
        return str(ArchiveRecord.Reason(value).label)
    except ValueError:
        return str(value or "—")


def line_label(line: tuple) -> str:
    name, detail = line
    if name == ADDED:
        return _("Added: %(source)s") % {"source": source_label(detail)}
    if name == REMOVED:
        return _("Removed: %(reason)s") % {"reason": reason_label(detail)}
    return {
        TRANSFER_IN: _("Transfers in"),
        TRANSFER_OUT: _("Transfers out"),
        "transfer_net": _("Transfers with sites outside the report (net)"),
        MISSING: _("Recorded missing"),
        FOUND: _("Found again"),
        CORRECTED: _("Weight and piece corrections"),
    }.get(name, name)


def line_param(line: tuple) -> str:
    return f"{line[0]}:{line[1]}" if line[1] else line[0]


def parse_line(value: str) -> tuple | None:
    if not value or value in ("opening", "closing"):
        return None
    name, _sep, detail = value.partition(":")
    return (name, detail)


# --- Parameters -----------------------------------------------------------------


def _date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def scope_for(user, params: dict) -> Scope:
    """The user's scope, narrowed to the chosen site (or "transit")."""
    scope = Scope.of_user(user)
    site = params.get("site")
    if site in (None, ""):
        return scope
    place = TRANSIT if site == TRANSIT else int(site)
    if not scope.sees(place):
        return Scope(frozenset())
    if place == TRANSIT:
        return Scope(frozenset({TRANSIT}))
    return Scope(frozenset({place}))


def item_filter_for(params: dict) -> ItemFilter:
    def ids(name):
        value = params.get(name)
        return frozenset({int(value)}) if value not in (None, "") else None

    source = params.get("source")
    return ItemFilter(
        category_ids=ids("category"),
        item_type_ids=ids("item_type"),
        sources=frozenset({source}) if source else None,
    )


def _history(user, params, cutoff):
    """The figures (reporting.aggregates.Totals, or the replay for a cut-off)."""
    scope = scope_for(user, params)
    return figures_for(scope=scope, item_filter=item_filter_for(params), cutoff=cutoff)


def _meta(*, user, period: str, scope: Scope, labels: Labels, cutoff: int, params: dict) -> list:
    country = current_country()
    if scope.site_ids is None:
        sites = _("All sites")
    else:
        sites = ", ".join(sorted(labels.place(p) for p in scope.site_ids)) or _("No site")
    meta = [
        (_("Country"), f"{country.name} ({country.code})"),
        (_("Period"), period),
        (_("Sites"), sites),
    ]
    for name in ("category", "item_type", "source"):
        if params.get(name):
            value = int(params[name]) if name != "source" else params[name]
            meta.append((str(GROUPINGS[name]), labels.value(name, value)))
    zone = timezone.get_current_timezone()
    zone = country_zone()
    meta += [
        (_("Generated by"), getattr(user, "display_name", "") or user.get_username()),
        (_("Generated on"), display.when(timezone.now(), zone=zone)),
        (_("Custody ledger entries up to"), cutoff),
    ]
    return meta


def _site_ids(scope: Scope):
    if scope.site_ids is None or TRANSIT in scope.site_ids:
        return None
    return sorted(p for p in scope.site_ids if p != TRANSIT)


def _measure_cells(measure: Measure) -> list:
    return [measure.items, measure.pieces, measure.weight_kg]


MEASURE_COLUMNS = (
    (gettext_lazy("Items"), INT),
    (gettext_lazy("Pieces"), INT),
    (gettext_lazy("Weight (kg)"), KG),
)


def _measure_columns(prefix: str = "") -> list:
    return [
        Column(f"{prefix}{label}" if prefix else str(label), kind)
        for label, kind in MEASURE_COLUMNS
    ]


# --- Summary ----------------------------------------------------------------------


def _detail_link(params: dict, key: tuple, group_by: tuple, line: str) -> dict:
    link = {
        "start": params["start"],
        "end": params["end"],
        "line": line,
        **{k: params.get(k) or "" for k in ("site", "category", "item_type", "source")},
    }
    for name, value in zip(group_by, key, strict=True):
        link[name] = value
    return link


def summary_document(*, user, params: dict, cutoff=None) -> Document:
    start, end = _date(params["start"]), _date(params["end"])
    group_by = tuple(params.get("group_by") or ())
    history = _history(user, params, cutoff)
    summary = history.summary(start=start, end=end, group_by=group_by)
    labels = Labels()
    group_columns = [Column(str(GROUPINGS[g])) for g in group_by]

    def group_cells(key):
        return [labels.value(g, v) for g, v in zip(group_by, key, strict=True)]

    rows = sorted(summary.rows.items(), key=lambda kv: group_cells(kv[0]))
    overview = Table(
        title=_("Overview"),
        columns=[
            *group_columns,
            *_measure_columns(_("Opening") + " — "),
            Column(_("Added (items)"), INT),
            Column(_("Added (kg)"), KG),
            Column(_("Removed (items)"), INT),
            Column(_("Removed (kg)"), KG),
            Column(_("Other movements (items)"), INT),
            Column(_("Other movements (kg)"), KG),
            *_measure_columns(_("Closing") + " — "),
        ],
    )
    statement = Table(
        title=_("Statement: opening + movements = closing"),
        columns=[*group_columns, Column(_("Line")), *_measure_columns()],
    )
    for key, row in [*rows, (None, summary.total())]:
        cells = group_cells(key) if key is not None else [_("Total")] + [""] * (len(group_by) - 1)
        if not group_by and key is None:
            cells = []
        added, removed = row.line_total(ADDED), row.line_total(REMOVED)
        other = row.movements()
        other.add(added, -1)
        other.add(removed, -1)
        overview.rows.append(
            [
                *cells,
                *_measure_cells(row.opening),
                added.items,
                added.weight_kg,
                removed.items,
                removed.weight_kg,
                other.items,
                other.weight_kg,
                *_measure_cells(row.closing),
            ]
        )
        link_key = key if key is not None else ("",) * len(group_by)
        overview.links.append(_detail_link(params, link_key, group_by, "closing"))
        if key is None:
            overview.strong_rows.add(len(overview.rows) - 1)
        statement.strong_rows.add(len(statement.rows))
        statement.rows.append([*cells, _("Opening balance"), *_measure_cells(row.opening)])
        statement.links.append(_detail_link(params, link_key, group_by, "opening"))
        for line, measure in row.ordered_lines():
            statement.rows.append([*cells, line_label(line), *_measure_cells(measure)])
            statement.links.append(_detail_link(params, link_key, group_by, line_param(line)))
        statement.rows.append([*cells, _("Closing balance"), *_measure_cells(row.closing)])
        statement.links.append(_detail_link(params, link_key, group_by, "closing"))
    period = _("%(start)s to %(end)s") % {"start": display.day(start), "end": display.day(end)}
    return Document(
        kind="summary",
        title=_("Stock summary"),
        meta=_meta(
            user=user,
            period=period,
            scope=history.scope,
            labels=labels,
            cutoff=history.cutoff,
            params=params,
        ),
        tables=[overview, statement],
        landscape=True,
        signatures=True,
        ledger_sequence=history.cutoff,
        site_ids=_site_ids(history.scope),
    )


def yearly_document(*, user, params: dict, cutoff=None) -> Document:
    first, last = int(params["first_year"]), int(params["last_year"])
    history = _history(user, params, cutoff)
    years = list(range(first, last + 1))
    summaries = history.summaries(
        periods=[(datetime.date(y, 1, 1), datetime.date(y, 12, 31)) for y in years]
    )
    labels = Labels()
    table = Table(
        title=_("Year by year"),
        columns=[
            Column(_("Year"), YEAR),
            *_measure_columns(_("Opening") + " — "),
            *_measure_columns(_("Added") + " — "),
            *_measure_columns(_("Removed") + " — "),
            *_measure_columns(_("Other movements") + " — "),
            *_measure_columns(_("Closing") + " — "),
        ],
    )
    for year, summary in zip(years, summaries, strict=True):
        total = summary.total()
        added, removed = total.line_total(ADDED), total.line_total(REMOVED)
        other = total.movements()
        other.add(added, -1)
        other.add(removed, -1)
        table.rows.append(
            [
                year,
                *_measure_cells(total.opening),
                *_measure_cells(added),
                *_measure_cells(removed),
                *_measure_cells(other),
                *_measure_cells(total.closing),
            ]
        )
        table.links.append(
            {
                "start": f"{year}-01-01",
                "end": f"{year}-12-31",
                "line": "closing",
                **{k: params.get(k) or "" for k in ("site", "category", "item_type", "source")},
            }
        )
    table.note = _(
        "Other movements: transfers, items recorded missing or found again, and weight "
        "or piece corrections. The closing balance of a year is the opening balance of the next."
    )
    return Document(
        kind="yearly",
        title=_("Stock year by year"),
        meta=_meta(
            user=user,
            period=f"{first}–{last}",
            scope=history.scope,
            labels=labels,
            cutoff=history.cutoff,
            params=params,
        ),
        tables=[table],
        landscape=True,
        signatures=True,
        ledger_sequence=history.cutoff,
        site_ids=_site_ids(history.scope),
    )


# --- Detail -----------------------------------------------------------------------------


def detail_document(*, user, params: dict, cutoff=None) -> Document:
    """The items behind one figure: held at the opening or closing of the
    period, or moved on one line of it (``params["line"]``)."""
    start, end = _date(params["start"]), _date(params["end"])
    line_value = params.get("line") or "closing"
    history = _history(user, params, cutoff)
    labels = Labels()
    columns = [
        Column(_("SMS number")),
        Column(_("CITES mark")),
        Column(_("Category")),
        Column(_("Type")),
        Column(_("Source")),
        Column(_("Place")),
    ]
    rows = []
    if line_value in ("opening", "closing"):
        day = start - datetime.timedelta(days=1) if line_value == "opening" else end
        what = _("Held at the end of %(day)s") % {"day": display.day(day)}
        for item_id, holding in history.holdings_at(day).items():
            info = history.items[item_id]
            rows.append(
                [
                    *_item_cells(info, labels),
                    labels.place(holding.place),
                    None,
                    1,
                    holding.pieces,
                    holding.weight_kg,
                ]
            )
        columns += [Column(_("Date"), DATE)]
    else:
        line = parse_line(line_value)
        what = line_label(line)
        for t, side, holding, row_line in history.item_lines(start=start, end=end):
            if row_line != line:
                continue
            info = history.items[t.item_id]
            rows.append(
                [
                    *_item_cells(info, labels),
                    labels.place(holding.place),
                    t.day,
                    side,
                    side * holding.pieces,
                    side * holding.weight_kg,
                ]
            )
        columns += [Column(_("Date"), DATE)]
    columns += _measure_columns()
    rows.sort(key=lambda r: (r[6] or datetime.date.min, r[0]))
    total = Measure()
    for r in rows:
        total.add(Measure(r[7], r[8], r[9]))
    table = Table(title=what, columns=columns, rows=rows)
    table.rows.append([_("Total"), "", "", "", "", "", None, *_measure_cells(total)])
    table.strong_rows.add(len(table.rows) - 1)
    period = _("%(start)s to %(end)s") % {"start": display.day(start), "end": display.day(end)}
    return Document(
        kind="detail",
        title=_("Detailed report: %(what)s") % {"what": what},
        meta=_meta(
            user=user,
            period=period,
            scope=history.scope,
            labels=labels,
            cutoff=history.cutoff,
            params=params,
        ),
        tables=[table],
        landscape=True,
        ledger_sequence=history.cutoff,
        site_ids=_site_ids(history.scope),
    )


def _item_cells(info, labels: Labels) -> list:
    item_type = labels.types[info.item_type_id]
    return [
        info.sms_number,
        info.cites_mark or "",
        item_type.category.label(),
        item_type.label(),
        source_label(info.source),
    ]


# --- CITES ------------------------------------------------------------------------------


def _kg(value) -> str:
    """A weight in the user's locale (decimal comma in French), for sentences."""
    return display.number(value, 3)


def _count(value) -> str:
    return display.count(value)


def _items_phrase(count: int) -> str:
    return ngettext("%(count)s item", "%(count)s items", count) % {"count": _count(count)}


def cites_summary(result: cites.Declaration) -> str:
    """The factual summary the reasons start from: what the records say
    changed in the year (the officer edits it before filing)."""
    year = result.year
    lines = [
        _(
            "Stock at 31 December %(previous)s: %(items)s, %(kg)s kg; at 31 December %(year)s: "
            "%(items_now)s, %(kg_now)s kg (change %(change)s kg)."
        )
        % {
            "previous": year - 1,
            "year": year,
            "items": _items_phrase(result.previous.items),
            "kg": _kg(result.previous.weight_kg),
            "items_now": _items_phrase(result.total.items),
            "kg_now": _kg(result.total.weight_kg),
            "change": _kg(result.change.weight_kg),
        }
    ]
    kind = result.kind
    archives = (
        ArchiveRecord.objects.filter(
            item__item_type__category__kind=kind,
            archived_on__year=year,
            reason__in=(ArchiveRecord.Reason.DESTROYED, ArchiveRecord.Reason.TRANSFERRED_ABROAD),
        )
        .values("reason", "archived_on", "authority_reference")
        .annotate(kg=Sum("item__weight_kg"), count=Count("pk"))
        .order_by("archived_on", "reason", "authority_reference")
    )
    for row in archives:
        values = {
            "items": _items_phrase(row["count"]),
            "kg": _kg(row["kg"] or 0),
            "day": display.day(row["archived_on"]),
            "reference": row["authority_reference"],
        }
        if row["reason"] == ArchiveRecord.Reason.DESTROYED:
            text = _(
                "Destroyed %(items)s, %(kg)s kg, on %(day)s (authority reference %(reference)s)."
            )
        else:
            text = _(
                "Transferred to another country %(items)s, %(kg)s kg, on %(day)s "
                "(authority reference %(reference)s)."
            )
        lines.append(text % values)
    for line, measure in result.movements:
        if line[0] == MISSING:
            lines.append(
                _("Found missing: %(items)s, %(kg)s kg.")
                % {"items": _items_phrase(abs(measure.items)), "kg": _kg(abs(measure.weight_kg))}
            )
        elif line[0] == FOUND:
            lines.append(
                _("Found again: %(items)s, %(kg)s kg.")
                % {"items": _items_phrase(measure.items), "kg": _kg(measure.weight_kg)}
            )
        elif line[0] == ADDED:
            lines.append(
                _("Added (%(source)s): %(items)s, %(kg)s kg.")
                % {
                    "source": source_label(line[1]),
                    "items": _items_phrase(measure.items),
                    "kg": _kg(measure.weight_kg),
                }
            )
    return "\n".join(lines)


def _cause_label(event: str) -> str:
    try:
        return str(LedgerEntry.Event(event).label)
    except ValueError:
        return event


def _adjustments_table(year: int, adjustments: list, class_labels: dict) -> Table:
    table = Table(
        title=_("Adjustments to the %(year)s declaration as filed") % {"year": year},
        columns=[
            Column(_("SMS number")),
            Column(_("Class as filed")),
            Column(_("Weight as filed (kg)"), KG),
            Column(_("Class now")),
            Column(_("Weight now (kg)"), KG),
            Column(_("Cause")),
        ],
        sheet=_("Adjustments to %(year)s") % {"year": year},
    )
    zone = country_zone()
    for adjustment in adjustments:
        causes = "; ".join(
            f"{_cause_label(event)} {display.day(at.astimezone(zone).date())}"
            for event, at in adjustment.causes
        ) or _("Recorded before the filing")
        table.rows.append(
            [
                adjustment.sms_number,
                class_labels.get(adjustment.filed_class, adjustment.filed_class) or "—",
                adjustment.filed.weight_kg if adjustment.filed_class else None,
                class_labels.get(adjustment.now_class, adjustment.now_class) or "—",
                adjustment.now.weight_kg if adjustment.now_class else None,
                causes,
            ]
        )
    table.note = _(
        "Items whose 31 December %(year)s differs from the filing: registered late with a "
        "date in %(year)s, corrected, reclassified or archived with an earlier date."
    ) % {"year": year}
    return table


def cites_document(*, user, params: dict, reasons: str = "", cutoff=None) -> Document:
    kind, year = params["cites_kind"], int(params["year"])
    scope = Scope.of_user(user)
    result = cites.declaration(kind=kind, year=year, scope=scope, cutoff=cutoff)
    labels = Labels()
    sources = [s for s in StockItem.Source.values]
    class_labels = {f.key: str(f.label) for f in result.classes}
    held = Table(
        title=_("Government-held stock at %(day)s") % {"day": display.day(result.as_of)},
        columns=[Column(_("Class")), Column(_("Source")), *_measure_columns()],
        sheet=_("Stock %(year)s") % {"year": year},
    )
    for figures in result.classes:
        for source in sources:
            measure = figures.by_source.get(source)
            if measure:
                held.rows.append(
                    [str(figures.label), source_label(source), *_measure_cells(measure)]
                )
        held.strong_rows.add(len(held.rows))
        held.rows.append([str(figures.label), _("All sources"), *_measure_cells(figures.total)])
    held.strong_rows.add(len(held.rows))
    held.rows.append([_("Total"), "", *_measure_cells(result.total)])
    held.note = _(
        "Items held at a site or in transit at the end of the day, in the country's time "
        "zone. Not included: %(items)s (%(weight)s kg) recorded missing at that date."
    ) % {"items": _items_phrase(result.missing.items), "weight": _kg(result.missing.weight_kg)}

    marked = Table(
        title=_("Marked pieces"),
        columns=[Column(_("Class")), Column(_("Marked items"), INT), Column(_("Items held"), INT)],
        rows=[[str(f.label), f.marked, f.total.items] for f in result.classes],
        sheet=_("Marked pieces"),
    )
    marked.rows.append([_("Total"), result.marked, result.total.items])
    marked.strong_rows.add(len(marked.rows) - 1)

    previous_filing = result.previous_filing
    if previous_filing is not None:
        previous_heading = _("%(year)s as filed") % {"year": year - 1}
    else:
        previous_heading = _("%(year)s recomputed") % {"year": year - 1}
    change = Table(
        title=_("Change from %(previous)s to %(year)s") % {"previous": year - 1, "year": year},
        columns=[
            Column(_("Class")),
            *_measure_columns(f"{previous_heading} — "),
            *_measure_columns(f"{year} — "),
            # "Change" alone is also a button ("Modifier"): French needs the context.
            *_measure_columns(pgettext("difference between two years", "Change") + " — "),
        ],
        sheet=_("Change %(previous)s-%(year)s") % {"previous": year - 1, "year": year},
    )
    for f in result.classes:
        change.rows.append(
            [
                str(f.label),
                *_measure_cells(f.previous),
                *_measure_cells(f.total),
                *_measure_cells(f.change),
            ]
        )
    change.rows.append(
        [
            _("Total"),
            *_measure_cells(result.previous),
            *_measure_cells(result.total),
            *_measure_cells(result.change),
        ]
    )
    change.strong_rows.add(len(change.rows) - 1)
    if previous_filing is not None:
        change.note = _(
            "%(year)s: the declaration as filed on %(day)s by %(who)s (custody ledger entries "
            "up to %(sequence)s). What changed %(year)s since is listed under "
            "“Adjustments to the %(year)s declaration as filed”."
        ) % {
            "year": year - 1,
            "day": display.day(previous_filing.filed_at.astimezone(country_zone()).date()),
            "who": previous_filing.filed_by_name,
            "sequence": previous_filing.ledger_sequence,
        }
    else:
        change.note = _(
            "No declaration for %(year)s has been filed in SMS: the %(year)s figures are "
            "recomputed from today's records."
        ) % {"year": year - 1}
    tables = [held, marked, change]
    if previous_filing is not None:
        tables.append(_adjustments_table(year - 1, result.adjustments, class_labels))
    if result.filing is not None:
        filed = result.filing.snapshot.get("classes", {})
        as_filed = Table(
            title=_("%(year)s as filed") % {"year": year},
            columns=[Column(_("Class")), *_measure_columns()],
            sheet=_("%(year)s as filed") % {"year": year},
        )
        for f in result.classes:
            items, pieces, kg = filed.get(f.key, (0, 0, "0"))
            as_filed.rows.append([str(f.label), items, pieces, Decimal(kg)])
        items, pieces, kg = result.filing.snapshot.get("total", (0, 0, "0"))
        as_filed.rows.append([_("Total"), items, pieces, Decimal(kg)])
        as_filed.strong_rows.add(len(as_filed.rows) - 1)
        as_filed.note = _(
            "The figures filed. The tables above are computed from today's records; what "
            "changed since the filing is listed below, item by item."
        )
        tables.append(as_filed)
        tables.append(_adjustments_table(year, result.since_filing, class_labels))
    if result.private is not None:
        private = Table(
            title=_("Privately held stocks declared at %(day)s")
            % {"day": display.day(result.as_of)},
            columns=[
                Column(_("Class")),
                Column(_("Holdings"), INT),
                Column(_("Pieces"), INT),
                Column(_("Weight (kg)"), KG),
            ],
            sheet=_("Private stocks"),
        )
        private_total = Measure()
        for f in result.classes:
            measure = result.private.get(f.key)
            if measure is not None:
                private.rows.append(
                    [str(f.label), measure.items, measure.pieces, measure.weight_kg]
                )
                private_total.add(Measure(0, measure.pieces, measure.weight_kg))
        private.rows.append([_("Total"), None, private_total.pieces, private_total.weight_kg])
        private.strong_rows.add(len(private.rows) - 1)
        private.note = _(
            "Declared to the Management Authority by private holders; not government stock and "
            "not included in the tables above."
        )
        tables.append(private)
    if result.species:
        species = Table(
            title=_("By species at %(day)s") % {"day": display.day(result.as_of)},
            columns=[Column(_("Species")), *_measure_columns()],
            sheet=_("By species"),
        )
        animals = any(a is not None for _n, _m, a in result.species)
        if animals:
            species.columns.append(Column(_("Animals (estimate)"), INT))
        for name, measure, count in result.species:
            row = [name or _("Species not recorded"), *_measure_cells(measure)]
            if animals:
                row.append(count)
            species.rows.append(row)
        if animals:
            species.note = _(
                "Animals: an estimate, the weight of scales divided by the kilograms of scales "
                "per animal the country's protocol gives for the species (CITES Decisions "
                "18.239 and 19.200); none where no parameter is given."
            )
        tables.append(species)

    tables.append(
        Table(
            title=_("Movements of the year, largest first"),
            columns=[Column(_("Movement")), *_measure_columns()],
            rows=[[line_label(line), *_measure_cells(m)] for line, m in result.movements],
            sheet=_("Movements %(year)s") % {"year": year},
        )
    )
    tables.append(
        Table(
            title=_("Largest single movements of the year"),
            columns=[
                Column(_("SMS number")),
                Column(_("CITES mark")),
                Column(_("Movement")),
                Column(_("Date"), DATE),
                Column(_("Weight (kg)"), KG),
            ],
            rows=[
                [
                    info.sms_number,
                    info.cites_mark or "",
                    line_label(line),
                    t.day,
                    side * holding.weight_kg,
                ]
                for t, side, holding, line, info in result.largest_items
            ],
            sheet=_("Largest movements"),
        )
    )
    annex = Table(
        title=_("Annex: marks of the pieces held"),
        columns=[
            Column(_("CITES mark")),
            Column(_("SMS number")),
            Column(_("Class")),
            Column(_("Type")),
            Column(_("Source")),
            Column(_("Place")),
            Column(_("Pieces"), INT),
            Column(_("Weight (kg)"), KG),
        ],
        annex=True,
        sheet=_("Annex - marks"),
    )
    # Hundreds of thousands of rows in a large country: streamed from the
    # database when an export writes them, each label looked up once.
    annex.rows = result.annex.map(_annex_cells(labels))
    tables.append(annex)
    title = f"{result.title} {year} — {result.resolution}"
    if result.provisional:
        provisional = _("PROVISIONAL")
        title = f"{title} — {provisional}"
    meta = _meta(
        user=user,
        period=_("Stock at %(day)s (end of the day)") % {"day": display.day(result.as_of)},
        scope=scope,
        labels=labels,
        cutoff=result.ledger_sequence,
        params={},
    )
    filing = result.filing
    if result.provisional:
        state = _("PROVISIONAL: the year %(year)s has not ended; the figures will change.") % {
            "year": year
        }
    elif filing is not None:
        state = _("Filed on %(day)s by %(who)s (custody ledger entries up to %(sequence)s)") % {
            "day": display.day(filing.filed_at.astimezone(country_zone()).date()),
            "who": filing.filed_by_name,
            "sequence": filing.ledger_sequence,
        }
    else:
        state = _("Not filed yet (deadline %(day)s)") % {
            "day": display.day(cites.filing_deadline(year))
        }
    meta.insert(0, (_("State"), state))
    if not reasons:
        reasons = filing.reasons if filing is not None and filing.reasons else ""
    reasons_heading = _("Reasons for significant changes from the previous year")
    if not reasons:
        reasons = cites_summary(result)
        reasons_heading = _("Summary of the year's changes (written by SMS from the records)")
    return Document(
        kind="cites",
        title=title,
        meta=meta,
        tables=tables,
        paragraphs=[(reasons_heading, reasons)],
        signatures=True,
        ledger_sequence=result.ledger_sequence,
        site_ids=_site_ids(scope),
        provisional=result.provisional,
    )


def _annex_cells(labels: Labels):
    """A function: an annex row -> its cells. Cells are looked up per type,
    source and place, never per row: the class label is lazy, and hashing it
    or str() of it translates it again (that was two thirds of the time of a
    300,000-row annex)."""
    type_labels = {t.pk: t.label() for t in labels.types.values()}
    type_cells: dict = {}
    source_labels: dict = {}
    place_labels: dict = {}

    def cells(row) -> list:
        mark, number, item_type, class_label, source, pieces, kg, place = row
        of_type = type_cells.get(item_type.id)
        if of_type is None:
            of_type = type_cells[item_type.id] = (str(class_label), type_labels[item_type.id])
        source_cell = source_labels.get(source)
        if source_cell is None:
            source_cell = source_labels[source] = source_label(source)
        place_cell = place_labels.get(place)
        if place_cell is None:
            place_cell = place_labels[place] = labels.place(place)
        return [mark, number, of_type[0], of_type[1], source_cell, place_cell, pieces, kg]

    return cells


BUILDERS = {
    "summary": summary_document,
    "yearly": yearly_document,
    "detail": detail_document,
}


@contextlib.contextmanager
def snapshot():
    """One read-only snapshot of the database for everything read inside:
    the figures, the ledger entry they are said to include up to, the
    checkpoint, and the long lists (the CITES annex) a document streams only
    when it is rendered — build and render a document inside one. Inside a
    transaction already (tests, a caller's own), that transaction."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def build(kind: str, params: dict, *, user, reasons: str = "", cutoff=None) -> Document:
    """The document. Its long lists (Table.rows as a Rows) are read when
    used: render it inside the same ``snapshot()`` as it was built in."""
    with snapshot():
        return _build(kind, params, user=user, reasons=reasons, cutoff=cutoff)


def _build(kind: str, params: dict, *, user, reasons: str, cutoff) -> Document:
    if kind == "cites":
        document = cites_document(user=user, params=params, reasons=reasons, cutoff=cutoff)
    else:
        document = BUILDERS[kind](user=user, params=params, cutoff=cutoff)
    document.checkpoint = checkpoints.take_for_document()
    return document
