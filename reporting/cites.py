"""CITES stock declarations (country schema): ivory (Res. Conf. 10.10), rhino
horn (Res. Conf. 9.14) and pangolin (Res. Conf. 17.10).

Government-held stock at 31 December (end of the day in the country's time
zone), from the custody ledger's aggregates (reporting.aggregates; the
replay in reporting.figures for a ledger cut-off): items held at a site or
in transit. Items recorded missing at that date are not held; they
are counted apart, under the table.

Each item type falls in one declaration class:

* ivory — "raw whole tusks": types with the whole flag (or "whole" in the
  code); "worked ivory": types whose code contains "worked"; every other
  ivory type: "raw cut pieces";
* rhino horn — "whole horns": the whole flag; others: "pieces and derivatives";
* pangolin — "scales": codes containing "scale"; others: "other parts".

The setting SMS_CITES_TYPE_CLASSES ({"type-code": "class key"}) overrides
the rule for a type.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from stock.models import ItemCategory, ItemType

from .aggregates import figures_for
from .figures import TRANSFER_IN, TRANSFER_OUT, ItemFilter, Measure, Scope, bulk

Kind = ItemCategory.Kind

KINDS = {
    Kind.IVORY: {
        "resolution": "Res. Conf. 10.10 (Rev. CoP19)",
        "title": _("Ivory stock declaration"),
        "classes": (
            ("raw_whole", _("Raw ivory: whole tusks")),
            ("raw_cut", _("Raw ivory: cut pieces")),
            ("worked", _("Worked ivory")),
        ),
    },
    Kind.RHINO_HORN: {
        "resolution": "Res. Conf. 9.14 (Rev. CoP17)",
        "title": _("Rhinoceros horn stock declaration"),
        "classes": (
            ("whole", _("Whole horns")),
            ("pieces", _("Horn pieces and derivatives")),
        ),
    },
    Kind.PANGOLIN: {
        "resolution": "Res. Conf. 17.10 (Rev. CoP18)",
        "title": _("Pangolin stock declaration"),
        "classes": (
            ("scales", _("Scales")),
            ("other", _("Other parts (skins, carcasses)")),
        ),
    },
}
LARGEST = 10
TRANSFER_NET = ("transfer_net", "")


def class_of(item_type: ItemType, kind: str) -> str:
    override = getattr(settings, "SMS_CITES_TYPE_CLASSES", {}).get(item_type.code)
    if override:
        return override
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
    annex: list
    ledger_sequence: int

    @property
    def change(self) -> Measure:
        change = self.total.copy()
        change.add(self.previous, -1)
        return change


def declaration(*, kind: str, year: int, scope: Scope, cutoff=None) -> Declaration:
    spec = KINDS[kind]
    source = figures_for(
        scope=scope, item_filter=ItemFilter(category_kinds=frozenset({kind})), cutoff=cutoff
    )
    types = source.types
    as_of = datetime.date(year, 12, 31)
    previous_end = datetime.date(year - 1, 12, 31)
    classes = {key: ClassFigures(key=key, label=label) for key, label in spec["classes"]}

    type_class = {pk: class_of(t, kind) for pk, t in types.items() if t.category.kind == kind}

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
    # Per type, its ItemType and class label, looked up once: the annex has a
    # row per marked piece (hundreds of thousands in a large country), and
    # tuple.__new__ skips the named tuple's Python-level constructor.
    of_type: dict = {}
    new_row = tuple.__new__
    with bulk():
        annex = []
        append = annex.append
        for mark, number, type_id, src, pieces, kg, place in source.annex_at(as_of):
            type_cells = of_type.get(type_id)
            if type_cells is None:
                type_cells = of_type[type_id] = (types[type_id], figures_of(type_id).label)
            append(new_row(AnnexRow, (mark, number, *type_cells, src, pieces, kg, place)))
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
    return Declaration(
        kind=kind,
        year=year,
        as_of=as_of,
        resolution=spec["resolution"],
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
    )
