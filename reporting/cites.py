"""CITES stock declarations (country schema): ivory (Res. Conf. 10.10), rhino
horn (Res. Conf. 9.14) and pangolin (Res. Conf. 17.10).

Government-held stock at 31 December (end of the day in the country's time
zone), from the custody ledger's aggregates (reporting.aggregates; the
replay in reporting.figures for a ledger cut-off): items held at a site or
in transit. Items recorded missing at that date are not held; they
are counted apart, under the table.

Each item type falls in the declaration class its inventory protocol
declares (ItemType.cites_class): ivory — raw whole tusks / raw cut pieces /
worked ivory; rhino horn — whole horns / pieces / derivatives; pangolin —
scales / other parts. Never guessed from the type's code or label (see
class_of for a type without one).

Resolution numbers and revisions: RESOLUTIONS, the one place to change.
"""

import datetime
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ledger.models import LedgerEntry
from stock.models import CitesClass, ItemCategory, ItemType, StockItem
from tenants.current import current_country

from .aggregates import Totals, figures_for
from .figures import (
    REMOVED,
    TRANSFER_IN,
    TRANSFER_OUT,
    Holding,
    ItemFilter,
    Measure,
    Rows,
    Scope,
    country_zone,
)
from .models import CitesFiling, PrivateHolding

Kind = ItemCategory.Kind

# The resolutions and their current revision: the one place to change when a
# Conference of the Parties revises one (titles of pages, PDFs and sheets).
RESOLUTIONS = {
    Kind.IVORY: ("10.10", "CoP19"),
    Kind.RHINO_HORN: ("9.14", "CoP19"),
    Kind.PANGOLIN: ("17.10", "CoP19"),
}


def resolution(kind: str) -> str:
    """The resolution's reference as the Management Authority writes it, in the
    active language (Res. Conf. in English, Resolução Conf. in Portuguese)."""
    number, revision = RESOLUTIONS[kind]
    return str(_("Res. Conf. %(number)s (Rev. %(revision)s)")) % {
        "number": number,
        "revision": revision,
    }


KINDS = {
    Kind.IVORY: {
        "title": _("Ivory stock declaration"),
        "classes": (
            ("raw_whole", _("Raw ivory: whole tusks")),
            ("raw_cut", _("Raw ivory: cut pieces")),
            ("worked", _("Worked ivory")),
        ),
    },
    Kind.RHINO_HORN: {
        "title": _("Rhinoceros horn stock declaration"),
        "classes": (
            ("whole", _("Whole horns")),
            ("pieces", _("Horn pieces")),
            ("derivatives", _("Horn derivatives")),
        ),
    },
    Kind.PANGOLIN: {
        "title": _("Pangolin stock declaration"),
        "classes": (
            ("scales", _("Scales")),
            ("other", _("Other parts (skins, carcasses)")),
        ),
    },
}
LARGEST = 10
TRANSFER_NET = ("transfer_net", "")


# The declared class of a type (ItemType.cites_class, from the inventory
# protocol) -> the declaration's class key.
DECLARED = {
    CitesClass.IVORY_RAW_WHOLE: "raw_whole",
    CitesClass.IVORY_RAW_CUT: "raw_cut",
    CitesClass.IVORY_WORKED: "worked",
    CitesClass.RHINO_WHOLE: "whole",
    CitesClass.RHINO_PIECE: "pieces",
    CitesClass.RHINO_DERIVATIVE: "derivatives",
    CitesClass.PANGOLIN_SCALES: "scales",
    CitesClass.PANGOLIN_OTHER: "other",
}


def class_of(item_type: ItemType, kind: str) -> str:
    """The declaration class of a type: the class its protocol declares.
    A type of a CITES kind without one (provisioning refuses it; migration
    stock 0008 gave every existing type one) falls back on the rule used
    before classes were declared, so no item is ever left out."""
    if item_type.cites_class:
        return DECLARED[item_type.cites_class]
    code = item_type.code.lower()
    if kind == Kind.IVORY:
        if item_type.is_whole:
            return "raw_whole"
        return "worked" if "worked" in code else "raw_cut"
    if kind == Kind.RHINO_HORN:
        return "whole" if item_type.is_whole else "pieces"
    if kind == Kind.PANGOLIN:
        return "scales" if "scale" in code else "other"
    raise ValueError(f"no CITES declaration for {kind!r}")


@dataclass
class ClassFigures:
    key: str
    label: object
    by_source: dict = field(default_factory=lambda: defaultdict(Measure))
    total: Measure = field(default_factory=Measure)
    previous: Measure = field(default_factory=Measure)
    marked: int = 0

    @property
    def change(self) -> Measure:
        change = self.total.copy()
        change.add(self.previous, -1)
        return change


class AnnexRow(NamedTuple):
    # A named tuple: a large country's annex has hundreds of thousands.
    mark: str
    sms_number: str
    item_type: ItemType
    class_label: object
    source: str
    pieces: int
    weight_kg: object
    place: object


@dataclass
class Declaration:
    kind: str
    year: int
    as_of: datetime.date
    resolution: str
    title: object
    classes: list
    total: Measure
    previous: Measure
    marked: int
    missing: Measure
    movements: list  # [(line key, Measure)] of the year, largest weight first
    largest_items: list  # [(Transition, side, Holding, line, ItemInfo)]
    annex: Rows  # of AnnexRow, by mark: read from the database when used
    ledger_sequence: int
    # Year Y is provisional until it ends (country time zone).
    provisional: bool = False
    # This year's filing, and the previous year's (what "previous" is then).
    filing: object = None
    previous_filing: object = None
    # Recomputed from today's records, whatever was filed.
    previous_recomputed: Measure = field(default_factory=Measure)
    adjustments: list = field(default_factory=list)  # [Adjustment]
    # This year's filing vs today's records, when it has been filed.
    since_filing: list = field(default_factory=list)  # [Adjustment]
    species: list = field(default_factory=list)  # [(species, Measure, animals or None)]
    destroyed: Measure = field(default_factory=Measure)
    # Declared private stocks held at 31 December (ivory, whole country):
    # {class key: Measure} (items = holdings), apart from government stock.
    private: dict | None = None
    # With ``with_items``: {item id: (class key, Holding)} held at 31 December.
    items: dict = field(default_factory=dict)

    @property
    def change(self) -> Measure:
        change = self.total.copy()
        change.add(self.previous, -1)
        return change


class Adjustment(NamedTuple):
    """One item whose 31 December of the previous year differs from the filing."""

    item_id: str
    sms_number: str
    filed_class: str  # class key, "" when not in the filing
    filed: Measure
    now_class: str  # "" when not held any more
    now: Measure
    causes: tuple  # ledger events recorded after the filing: (event, date)


def year_ended(year: int) -> bool:
    """True once 31 December of ``year`` is over in the country's time zone."""
    today = timezone.now().astimezone(country_zone()).date()
    return today > datetime.date(year, 12, 31)


def filing_deadline(year: int) -> datetime.date:
    # Res. Conf. 10.10: stocks as at 31 December, declared by 28 February.
    return datetime.date(year + 1, 2, 28)


def class_of_type_ids(types: dict, kind: str) -> dict:
    return {pk: class_of(t, kind) for pk, t in types.items() if t.category.kind == kind}


def _measure(values) -> Measure:
    items, pieces, kg = values
    return Measure(int(items), int(pieces), Decimal(kg))


def declaration(
    *, kind: str, year: int, scope: Scope, cutoff=None, with_items: bool = False
) -> Declaration:
    spec = KINDS[kind]
    source = figures_for(
        scope=scope, item_filter=ItemFilter(category_kinds=frozenset({kind})), cutoff=cutoff
    )
    types = source.types
    as_of = datetime.date(year, 12, 31)
    previous_end = datetime.date(year - 1, 12, 31)
    classes = {key: ClassFigures(key=key, label=label) for key, label in spec["classes"]}

    type_class = class_of_type_ids(types, kind)

    def figures_of(type_id):
        key = type_class[type_id]
        if key not in classes:  # a class named in the setting but not in the declaration
            classes[key] = ClassFigures(key=key, label=key)
        return classes[key]

    for (type_id, item_source), (measure, marked) in source.balances_at(
        as_of, ("item_type", "source")
    ).items():
        figures = figures_of(type_id)
        if measure:
            figures.by_source[item_source].add(measure)
            figures.total.add(measure)
        figures.marked += marked
    for (type_id,), (measure, _marked) in source.balances_at(previous_end, ("item_type",)).items():
        figures_of(type_id).previous.add(measure)
    # The annex is not read here: a row per marked piece (hundreds of
    # thousands in a large country) that only an export needs, streamed from
    # the database in mark order when it is written. Per type, its ItemType
    # and class label, looked up once; tuple.__new__ skips the named tuple's
    # Python-level constructor.
    of_type: dict = {}
    new_row = tuple.__new__

    def annex_row(row):
        mark, number, type_id, src, pieces, kg, place = row
        type_cells = of_type.get(type_id)
        if type_cells is None:
            type_cells = of_type[type_id] = (types[type_id], figures_of(type_id).label)
        return new_row(AnnexRow, (mark, number, *type_cells, src, pieces, kg, place))

    annex = source.annex_at(as_of).map(annex_row)
    missing = source.missing_total_at(as_of)

    year_summary = source.summary(start=datetime.date(year, 1, 1), end=as_of)
    total_row = year_summary.total()
    # Transfers between sites net out in a country's stock: one net line,
    # shown only when it is not zero (a scope of some sites).
    lines: dict = {}
    for line, measure in total_row.lines.items():
        if line[0] in (TRANSFER_IN, TRANSFER_OUT):
            lines.setdefault(TRANSFER_NET, Measure()).add(measure)
        else:
            lines[line] = measure
    movements = sorted(
        ((line, m) for line, m in lines.items() if m),
        key=lambda kv: (-abs(kv[1].weight_kg), str(kv[0])),
    )
    total, previous = Measure(), Measure()
    for figures in classes.values():
        total.add(figures.total)
        previous.add(figures.previous)
    previous_recomputed = previous.copy()
    # A filing is the country's: it replaces the recomputed previous year only
    # in a declaration of the whole country.
    whole_country = scope.site_ids is None
    filings = {
        f.year: f
        for f in CitesFiling.objects.filter(kind=kind, year__in=(year - 1, year)).defer("items")
        if whole_country
    }
    previous_filing = filings.get(year - 1)
    adjustments = []
    if previous_filing is not None:
        filed_classes = previous_filing.snapshot.get("classes", {})
        for key, figures in classes.items():
            figures.previous = _measure(filed_classes.get(key, (0, 0, "0")))
        for key, values in filed_classes.items():
            if key not in classes:
                classes[key] = ClassFigures(key=key, label=key, previous=_measure(values))
        previous = _measure(previous_filing.snapshot["total"])
        adjustments = _adjustments(source, previous_filing, previous_end, type_class)
    destroyed = Measure()
    for line, measure in total_row.lines.items():
        if line == (REMOVED, "destroyed"):
            destroyed.add(measure, -1)
    return Declaration(
        kind=kind,
        year=year,
        as_of=as_of,
        resolution=resolution(kind),
        title=spec["title"],
        classes=list(classes.values()),
        total=total,
        previous=previous,
        marked=sum(f.marked for f in classes.values()),
        missing=missing,
        movements=movements,
        largest_items=source.largest_item_lines(
            start=datetime.date(year, 1, 1), end=as_of, limit=LARGEST
        ),
        annex=annex,
        ledger_sequence=source.cutoff,
        provisional=not year_ended(year),
        filing=filings.get(year),
        since_filing=(
            _adjustments(source, filings[year], as_of, type_class) if year in filings else []
        ),
        previous_filing=previous_filing,
        previous_recomputed=previous_recomputed,
        adjustments=adjustments,
        species=_species(source, kind, as_of) if kind != Kind.IVORY else [],
        destroyed=destroyed,
        items=held_items(source, as_of, type_class) if with_items else {},
        private=private_totals(as_of) if kind == Kind.IVORY and whole_country else None,
    )


def private_totals(day: datetime.date) -> dict:
    """{class key: Measure} of the private ivory stocks declared by ``day``
    and still held then; items = the number of holdings with that class."""
    totals = {key: Measure() for key in PrivateHolding.CLASSES}
    held = PrivateHolding.objects.filter(declared_on__lte=day).exclude(ended_on__lte=day)
    for holding in held:
        for key in PrivateHolding.CLASSES:
            pieces = getattr(holding, f"{key}_pieces")
            kg = getattr(holding, f"{key}_kg")
            if pieces or kg:
                totals[key].add(Measure(1, pieces, kg))
    return totals


def held_items(source, day: datetime.date, type_class: dict) -> dict:
    """{item id (text): (class key, Holding)} of the items held at the end of ``day``."""
    return {
        str(item_id): (type_class[source.items[item_id].item_type_id], holding)
        for item_id, holding in source.holdings_at(day).items()
        if source.items[item_id].item_type_id in type_class
    }


def _adjustments(source, filing, day: datetime.date, type_class: dict) -> list:
    """Item by item, what differs between the filed 31 December and the same
    day recomputed from today's records, with the ledger events recorded
    after the filing that explain it. Only items with a custody entry after
    the filing can differ (every change of an item's history is one), so
    only those are compared: a handful, not the hundreds of thousands held."""
    candidates = sorted(
        {
            str(item_id)
            for item_id in LedgerEntry.objects.filter(
                sequence__gt=filing.ledger_sequence, item_id__isnull=False
            )
            .values_list("item_id", flat=True)
            .distinct()
        }
    )
    if not candidates:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT k, f.items -> k FROM reporting_citesfiling f, unnest(%s::text[]) k"
            " WHERE f.id = %s AND f.items ? k",
            [candidates, filing.pk],
        )
        filed = {
            key: json.loads(value) if isinstance(value, str) else value
            for key, value in cursor.fetchall()
        }
    now = _held_now(source, day, type_class, candidates)
    changed = []
    for item_id in candidates:
        was = filed.get(item_id)
        is_now = now.get(item_id)
        filed_class, filed_measure = "", Measure()
        if was is not None:
            filed_class, filed_measure = was[0], Measure(1, int(was[1]), Decimal(was[2]))
        now_class, now_measure = "", Measure()
        if is_now is not None:
            now_class = is_now[0]
            now_measure = Measure(1, is_now[1].pieces, is_now[1].weight_kg)
        if filed_class == now_class and filed_measure.as_tuple() == now_measure.as_tuple():
            continue
        changed.append([item_id, filed_class, filed_measure, now_class, now_measure])
    if not changed:
        return []
    ids = [row[0] for row in changed]
    numbers = dict(StockItem.objects.filter(pk__in=ids).values_list("id", "sms_number"))
    causes: dict = defaultdict(list)
    for item_id, event, occurred_at in (
        LedgerEntry.objects.filter(item_id__in=ids, sequence__gt=filing.ledger_sequence)
        .order_by("sequence")
        .values_list("item_id", "event", "occurred_at")
    ):
        causes[str(item_id)].append((event, occurred_at))
    return [
        Adjustment(
            item_id=item_id,
            sms_number=numbers.get(uuid.UUID(item_id), item_id),
            filed_class=filed_class,
            filed=filed_measure,
            now_class=now_class,
            now=now_measure,
            causes=tuple(causes.get(item_id, ())),
        )
        for item_id, filed_class, filed_measure, now_class, now_measure in changed
    ]


def _held_now(source, day: datetime.date, type_class: dict, item_ids: list) -> dict:
    """{item id: (class key, Holding)} of these items held at the end of
    ``day``: from each one's last transition up to that day (the report
    tables; the whole country), or the ledger replay for a cut-off."""
    if not isinstance(source, Totals):
        wanted = set(item_ids)
        return {k: v for k, v in held_items(source, day, type_class).items() if k in wanted}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.item_id::text, p.item_type_id, s.place_after, s.pieces_after,"
            " s.weight_after"
            " FROM reporting_itemposition p"
            " JOIN LATERAL (SELECT t.status_after, t.place_after, t.pieces_after,"
            "  t.weight_after FROM reporting_itemtransition t"
            "  WHERE t.item_id = p.item_id AND t.day <= %s"
            "  ORDER BY t.sequence DESC LIMIT 1) s ON true"
            " WHERE p.item_id = ANY(%s::uuid[]) AND s.status_after IN ('held', 'transit')",
            [day, item_ids],
        )
        return {
            item_id: (type_class[type_id], Holding(place, pieces, kg))
            for item_id, type_id, place, pieces, kg in cursor.fetchall()
            if type_id in type_class
        }


def _species(source, kind: str, day: datetime.date) -> list:
    """[(species, Measure, animals or None)] of the items held at the end of
    ``day``, by the species recorded on each item ("" when none). Animals:
    the pangolin scales' weight over the protocol's kg of scales per animal
    for that species, when the country's protocol gives one."""
    held = source.holdings_at(day)
    species_of = {}
    ids = list(held)
    for start in range(0, len(ids), 10_000):
        species_of.update(
            StockItem.objects.filter(pk__in=ids[start : start + 10_000]).values_list(
                "id", "species"
            )
        )
    per_animal = scales_per_animal() if kind == Kind.PANGOLIN else {}
    scale_types = {
        pk
        for pk, t in source.types.items()
        if t.category.kind == kind and class_of(t, kind) == "scales"
    }
    by_species: dict = defaultdict(Measure)
    scales_kg: dict = defaultdict(lambda: Decimal(0))
    for item_id, holding in held.items():
        name = (species_of.get(item_id) or "").strip()
        by_species[name].add(Measure(1, holding.pieces, holding.weight_kg))
        if source.items[item_id].item_type_id in scale_types:
            scales_kg[name] += holding.weight_kg
    rows = []
    for name in sorted(by_species, key=lambda n: (n == "", n.lower())):
        factor = per_animal.get(name.lower())
        animals = None
        if factor and name:
            animals = (scales_kg[name] / factor).quantize(Decimal(1))
        rows.append((name, by_species[name], animals))
    return rows


def scales_per_animal() -> dict:
    """{species (lower case): kg of scales per animal} from the setting
    SMS_PANGOLIN_SCALES_KG_PER_ANIMAL (Decisions 18.239 / 19.200 ask Parties
    for these conversion parameters; none is assumed)."""
    setting = getattr(settings, "SMS_PANGOLIN_SCALES_KG_PER_ANIMAL", {}) or {}
    return {k.strip().lower(): Decimal(str(v)) for k, v in setting.items() if Decimal(str(v)) > 0}


def change_threshold() -> Decimal:
    """The share of the previous weight above which a change needs reasons:
    SMS_CITES_CHANGE_THRESHOLDS[country code], else SMS_CITES_CHANGE_THRESHOLD
    (default 0.10)."""
    code = getattr(current_country(), "code", "")
    per_country = getattr(settings, "SMS_CITES_CHANGE_THRESHOLDS", {}) or {}
    value = per_country.get(code, getattr(settings, "SMS_CITES_CHANGE_THRESHOLD", "0.10"))
    return Decimal(str(value))


def needs_reasons(result: Declaration) -> bool:
    """Res. Conf. 10.10 asks for the reasons of significant changes: a weight
    change beyond the country's threshold, or any destruction in the year."""
    if result.destroyed:
        return True
    change = abs(result.change.weight_kg)
    if not result.previous.weight_kg:
        return bool(change)
    return change > result.previous.weight_kg * change_threshold()
