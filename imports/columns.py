"""The columns of a country's register spreadsheet (country schema; reads).

One list, ``columns_for_country``, says what the template holds, what an
uploaded sheet's headers are matched against and what the export writes:
the item type and the store, the CITES mark, every built-in item field
(stock.services.ITEM_FIELDS), the country's custom fields, the archive
columns (an item the old register holds as archived) and the photo file
names. A header matches a column by its label in any of the country's
languages (with or without its unit), by its key, or by a mapping saved at
an earlier import (imports.models.ColumnMapping).
"""

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from stock.models import ArchiveRecord, CustomFieldDefinition, ItemType, Site, StockItem
from stock.services import ITEM_FIELDS

# Column kinds: how a cell is read.
TEXT, DECIMAL, INTEGER, DATE, BOOLEAN, CHOICE, MULTI = (
    "text",
    "decimal",
    "integer",
    "date",
    "boolean",
    "choice",
    "multi",
)
# Mapping targets that are no field.
NOTES_TARGET = "notes_extra"  # kept in the item's notes, under its header
IGNORE_TARGET = "ignore"
CUSTOM_PREFIX = "custom:"
ARCHIVE_FIELDS = (
    "archive_reason",
    "archived_on",
    "authority_reference",
    "destruction_method",
    "witnesses",
    "incident_reference",
)
PHOTOS = "photos"


@dataclass
class Column:
    key: str  # "item_type", "site", "cites_mark", an item field, "custom:<key>", ...
    label: str
    kind: str = TEXT
    unit: str = ""
    help: str = ""
    required: bool = False
    # [(stored value, label)] for choice columns.
    choices: list = field(default_factory=list)
    # Every header that names this column (normalised), in every language.
    names: set = field(default_factory=set)
    # {normalised value or label in any language: stored value}.
    aliases: dict = field(default_factory=dict)

    @property
    def header(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label

    @property
    def service_key(self) -> str:
        """The key of the stock services' errors for this column."""
        if self.key.startswith(CUSTOM_PREFIX):
            return "custom_" + self.key[len(CUSTOM_PREFIX) :]
        if self.key == "archive_reason":
            return "reason"
        return self.key


def normalise(text) -> str:
    """A header or a name as compared: no accents, case or punctuation."""
    return _normalised(str(text or ""))


@functools.lru_cache(maxsize=4096)
def _normalised(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


_UNIT = re.compile(r"^(?P<label>.*?)\s*\((?P<unit>[^()]*)\)\s*$")
_HELP = {
    "item_type": gettext_lazy("The item type: its name or code, from the list."),
    "site": gettext_lazy("The store the item is kept in: its name or code, from the list."),
    "cites_mark": gettext_lazy(
        "The CITES mark written on the piece, as it is (marks of past years are kept, "
        "never regenerated). Leave empty to have SMS allocate one when the piece needs it."
    ),
    "weight_kg": gettext_lazy("Weight in kilograms; a decimal comma or point."),
    "received_on": gettext_lazy(
        "The date the item entered the store (YYYY-MM-DD or DD/MM/YYYY); past years are "
        "counted in their year."
    ),
    "notes": gettext_lazy(
        "Free text. Columns of your old register that SMS has no field for are added here."
    ),
    "archive_reason": gettext_lazy(
        "Only for items your register holds as no longer in stock: why they left it. "
        "The item is imported as archived."
    ),
    PHOTOS: gettext_lazy(
        "File names of the item's photos in the ZIP sent with the spreadsheet, separated by “;”."
    ),
}


def _split_label(verbose) -> tuple[str, str]:
    text = str(verbose)
    match = _UNIT.match(text)
    if match:
        return match.group("label"), match.group("unit")
    return text, ""


def _model_column(model, name: str, key: str | None = None) -> Column:
    model_field = model._meta.get_field(name)
    label, unit = _split_label(model_field.verbose_name)
    kind = {
        "DecimalField": DECIMAL,
        "PositiveIntegerField": INTEGER,
        "DateField": DATE,
        "BooleanField": BOOLEAN,
    }.get(model_field.get_internal_type(), TEXT)
    choices = [(value, str(text)) for value, text in model_field.choices or []]
    if choices:
        kind = CHOICE
    return Column(
        key=key or name,
        label=label[:1].upper() + label[1:],
        kind=kind,
        unit=unit,
        choices=choices,
        help=str(_HELP.get(key or name, "")),
    )


def _columns(language: str) -> list[Column]:
    with translation.override(language):
        columns = [
            Column(
                key="item_type",
                label=_("Item type"),
                kind=CHOICE,
                required=True,
                choices=[
                    (t.code, t.label(language)) for t in ItemType.objects.filter(enabled=True)
                ],
                help=str(_HELP["item_type"]),
            ),
            Column(
                key="site",
                label=_("Store"),
                kind=CHOICE,
                required=True,
                choices=[(s.code, s.name) for s in Site.objects.filter(active=True)],
                help=str(_HELP["site"]),
            ),
            Column(key="cites_mark", label=_("CITES mark"), help=str(_HELP["cites_mark"])),
        ]
        for name in ITEM_FIELDS:
            column = _model_column(StockItem, name)
            column.required = name == "weight_kg"
            columns.append(column)
        for definition in CustomFieldDefinition.objects.filter(active=True):
            kinds = CustomFieldDefinition.FieldType
            columns.append(
                Column(
                    key=CUSTOM_PREFIX + definition.key,
                    label=definition.label(language),
                    unit=definition.unit,
                    required=definition.required,
                    kind={
                        kinds.INTEGER: INTEGER,
                        kinds.DECIMAL: DECIMAL,
                        kinds.DATE: DATE,
                        kinds.BOOLEAN: BOOLEAN,
                        kinds.CHOICE: CHOICE,
                        kinds.MULTI_CHOICE: MULTI,
                    }.get(definition.field_type, TEXT),
                    choices=[
                        (
                            str(c.get("value")),
                            str(
                                (c.get("labels") or {}).get(language)
                                or (c.get("labels") or {}).get("en")
                                or c.get("value")
                            ),
                        )
                        for c in definition.choices or []
                    ],
                    help=_("A field of this country."),
                )
            )
        archive = [
            ("archive_reason", "reason"),
            ("archived_on", "archived_on"),
            ("authority_reference", "authority_reference"),
            ("destruction_method", "destruction_method"),
            ("witnesses", "witnesses"),
            ("incident_reference", "incident_reference"),
        ]
        for key, name in archive:
            column = _model_column(ArchiveRecord, name, key=key)
            column.label = {
                "archive_reason": _("Archive reason"),
                "archived_on": _("Archived on"),
            }.get(key, column.label)
            if not column.help:
                column.help = _("Only for an item imported as archived.")
            columns.append(column)
        columns.append(Column(key=PHOTOS, label=_("Photo files"), help=str(_HELP[PHOTOS])))
        by_kind = {
            DECIMAL: _("A number; a decimal comma or point."),
            INTEGER: _("A whole number."),
            DATE: _("A date: YYYY-MM-DD or DD/MM/YYYY (or a date cell)."),
            BOOLEAN: _("Yes or no."),
            CHOICE: _("One of the list."),
            MULTI: _("One or more of the list, separated by “;”."),
            TEXT: _("Free text."),
        }
        for column in columns:
            if not column.help:
                column.help = str(by_kind[column.kind])
            if column.key in ("pieces", "bags"):
                column.help += " " + _("Lots: required; an individual piece counts as 1 piece.")
    return columns


def columns_for_country(language: str, languages: list[str]) -> list[Column]:
    """The columns with their labels in ``language``; each column's ``names``
    hold its header, label and key in every language of ``languages``."""
    columns = _columns(language)
    by_key = {c.key: c for c in columns}
    for other in {language, "en", *languages}:
        for column in _columns(other) if other != language else columns:
            target = by_key.get(column.key)
            if target is not None:
                target.names.update({normalise(column.header), normalise(column.label)})
                for value, label in column.choices:
                    target.aliases.setdefault(normalise(label), value)
    for column in columns:
        for value, _label in column.choices:
            column.aliases[normalise(value)] = value
        column.names.add(normalise(column.key))
        if column.key.startswith(CUSTOM_PREFIX):
            column.names.add(normalise(column.key[len(CUSTOM_PREFIX) :]))
    return columns
