"""The country's XLSForms, generated from its own definitions (country schema reads).

Two forms, built as pyxform workbook dicts and converted to XForm XML:

* *Register item* (``sms_register_item``): site, category, type (filtered by
  category), the item fields and custom fields that apply to the type (shown
  only for the types they apply to), the CITES mark typed or scanned, 1-5
  photos, optional GPS; labels in every language of the country.
* *Stock-take check* (``sms_stocktake_check``): site, an item of that site from
  the *items* entity list (``items.csv``), found / damaged, re-weigh, photo.

The version of each form is a hash of what it is built from, so any change to
a site, type or field definition gives a new version, and nothing else does.
Question names are what odk.sync reads back: keep them in step.
"""

import hashlib
import json
from dataclasses import dataclass

from django.conf.locale import LANG_INFO
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from pyxform.xls2xform import convert

from stock.custom_fields import definitions_for_type
from stock.field_rules import MEASUREMENTS, fields_for_type
from stock.models import CustomFieldDefinition, ItemCategory, ItemType, Site, StockItem

REGISTER_FORM_ID = "sms_register_item"
STOCKTAKE_FORM_ID = "sms_stocktake_check"
ENTITY_LIST = "items"
# Collect scales photos down so their longest side is at most this many pixels
# (keeps uploads small on store connections; the server limit is in settings).
PHOTO_MAX_PIXELS = 2560
MAX_PHOTOS = 5
PHOTO_FIELDS = [f"photo_{n}" for n in range(1, MAX_PHOTOS + 1)]

DECIMAL_FIELDS = {"weight_kg", *MEASUREMENTS, "dna_weight_removed_g"}
INTEGER_FIELDS = {"pieces", "bags"}
DATE_FIELDS = {"acquired_on", "received_on"}
YES_NO_FIELDS = {"weight_is_final", "court_hold"}
CHOICE_FIELDS = {"side", "horn_position", "source", "legal_status"}
COUNTRY_FIELDS = {"country_of_origin", "country_of_seizure"}


def custom_question_name(key: str) -> str:
    # Keys may contain "-" (slugs); XML names are safer with "_" and a letter first.
    return "cf_" + key.replace("-", "_")


@dataclass(frozen=True)
class BuiltForm:
    kind: str
    xml_form_id: str
    version: str
    workbook: dict
    xform: str


def _language_column(code: str) -> str:
    name = LANG_INFO.get(code, {}).get("name", code)
    return f"{name} ({code})"


class _Labels:
    """Labels in every language of the country, as pyxform ``label::Lang (xx)`` columns."""

    def __init__(self, languages: list[str]):
        self.languages = languages

    def text(self, column: str, make) -> dict:
        """``make()`` is called once per language with that language active."""
        out = {}
        for code in self.languages:
            with translation.override(code):
                out[f"{column}::{_language_column(code)}"] = str(make(code))
        return out

    def label(self, make) -> dict:
        return self.text("label", make)


def _field_label(name: str):
    return lambda code: capfirst(str(StockItem._meta.get_field(name).verbose_name))


def _types_expression(codes: set[str], all_codes: set[str]) -> str:
    if codes >= all_codes:
        return ""
    return "selected('" + " ".join(sorted(codes)) + "', ${item_type})"


def _yes_no_choices(labels: _Labels) -> list[dict]:
    return [
        {"list_name": "yes_no", "name": "yes", **labels.label(lambda c: _("Yes"))},
        {"list_name": "yes_no", "name": "no", **labels.label(lambda c: _("No"))},
    ]


def _sites_choices(labels: _Labels) -> list[dict]:
    return [
        {"list_name": "sites", "name": site.code, **labels.label(lambda c, s=site: s.name)}
        for site in Site.objects.filter(active=True).order_by("name")
    ]


def _settings(*, title: str, form_id: str, languages: list[str], default: str) -> list[dict]:
    return [
        {
            "form_title": title,
            "form_id": form_id,
            "version": "",
            "default_language": _language_column(default),
        }
    ]


def register_workbook(*, languages: list[str], default_language: str) -> dict:
    labels = _Labels(languages)
    types = list(
        ItemType.objects.filter(enabled=True, category__enabled=True).select_related("category")
    )
    all_codes = {t.code for t in types}
    survey: list[dict] = []
    choices: list[dict] = _yes_no_choices(labels) + _sites_choices(labels)

    def question(row: dict, *, constraint_message=None, hint=None) -> None:
        if constraint_message:
            row.update(labels.text("constraint_message", constraint_message))
        if hint:
            row.update(labels.text("hint", hint))
        survey.append(row)

    question(
        {
            "type": "select_one sites",
            "name": "site",
            "required": "yes",
            **labels.label(lambda c: _("Store")),
        }
    )
    for category in ItemCategory.objects.filter(enabled=True, types__in=types).distinct():
        choices.append(
            {
                "list_name": "categories",
                "name": category.code,
                **labels.label(lambda c, x=category: x.label(c)),
            }
        )
    question(
        {
            "type": "select_one categories",
            "name": "category",
            "required": "yes",
            **labels.label(lambda c: _("Category")),
        }
    )
    for item_type in types:
        choices.append(
            {
                "list_name": "types",
                "name": item_type.code,
                "category": item_type.category.code,
                **labels.label(lambda c, x=item_type: x.label(c)),
            }
        )
    question(
        {
            "type": "select_one types",
            "name": "item_type",
            "required": "yes",
            "choice_filter": "category=${category}",
            **labels.label(lambda c: _("Item type")),
        }
    )

    # Which types each item field applies to, as the web form shows them.
    applies: dict[str, set[str]] = {}
    order: list[str] = []
    for item_type in types:
        for names in fields_for_type(item_type).values():
            for name in names:
                if name not in applies:
                    applies[name] = set()
                    order.append(name)
                applies[name].add(item_type.code)
    for name in order:
        row = {"name": name, **labels.label(_field_label(name))}
        relevant = _types_expression(applies[name], all_codes)
        if relevant:
            row["relevant"] = relevant
        message = None
        if name in DECIMAL_FIELDS:
            row["type"] = "decimal"
            row["constraint"] = ". > 0"
            message = lambda c: _("Enter a value greater than 0.")  # noqa: E731
        elif name in INTEGER_FIELDS:
            row["type"] = "integer"
            row["constraint"] = ". >= 1"
            row["required"] = "yes"
            message = lambda c: _("Enter at least 1.")  # noqa: E731
        elif name in DATE_FIELDS:
            row["type"] = "date"
            row["constraint"] = ". <= today()"
            message = lambda c: _("This date is in the future.")  # noqa: E731
            if name == "received_on":
                row["default"] = "today()"
                row["required"] = "yes"
        elif name in YES_NO_FIELDS:
            row["type"] = "select_one yes_no"
            if name == "weight_is_final":
                row["default"] = "yes"
        elif name in CHOICE_FIELDS:
            row["type"] = f"select_one {name}"
            for value, _label in StockItem._meta.get_field(name).choices:
                choices.append(
                    {
                        "list_name": name,
                        "name": value,
                        **labels.label(
                            lambda c, n=name, v=value: dict(StockItem._meta.get_field(n).choices)[v]
                        ),
                    }
                )
        elif name in COUNTRY_FIELDS:
            row["type"] = "text"
            row["constraint"] = "regex(., '^[A-Z]{2}$')"
            message = lambda c: _("Use the two-letter ISO country code, e.g. KE.")  # noqa: E731
        else:
            row["type"] = "text"
        if name == "weight_kg":
            row["required"] = "yes"
        question(row, constraint_message=message)

    # The custom fields of the country, each shown for the types it applies to.
    definitions = list(CustomFieldDefinition.objects.filter(active=True).order_by("order", "key"))
    custom_applies: dict[str, set[str]] = {}
    for item_type in types:
        for definition in definitions_for_type(item_type):
            custom_applies.setdefault(definition.key, set()).add(item_type.code)
    kinds = CustomFieldDefinition.FieldType
    for definition in definitions:
        codes = custom_applies.get(definition.key)
        if not codes:
            continue
        name = custom_question_name(definition.key)

        def field_label(code, d=definition):
            text = d.label(code)
            return f"{text} ({d.unit})" if d.unit else text

        row = {"name": name, **labels.label(field_label)}
        relevant = _types_expression(codes, all_codes)
        if relevant:
            row["relevant"] = relevant
        if definition.required:
            row["required"] = "yes"
        kind = definition.field_type
        if kind in (kinds.CHOICE, kinds.MULTI_CHOICE):
            list_name = f"cf_{name}"
            row["type"] = (
                "select_one " if kind == kinds.CHOICE else "select_multiple "
            ) + list_name
            for choice in definition.choices:
                choices.append(
                    {
                        "list_name": list_name,
                        "name": str(choice["value"]),
                        **labels.label(
                            lambda c, x=choice: (
                                (x.get("labels") or {}).get(c)
                                or next(iter((x.get("labels") or {}).values()), x["value"])
                            )
                        ),
                    }
                )
        elif kind == kinds.BOOLEAN:
            row["type"] = "select_one yes_no"
        else:
            row["type"] = {
                kinds.TEXT: "text",
                kinds.INTEGER: "integer",
                kinds.DECIMAL: "decimal",
                kinds.DATE: "date",
            }[kind]
        question(row)

    marked = {t.code for t in types if t.marking != "none"}
    if marked:
        mark_relevant = _types_expression(marked, all_codes)
        entry = {
            "type": "select_one mark_entry",
            "name": "mark_entry",
            "required": "yes",
            **labels.label(lambda c: _("CITES mark already on the item?")),
        }
        if mark_relevant:
            entry["relevant"] = mark_relevant
        question(entry)
        for value, text in (
            ("none", lambda c: _("No mark yet: SMS gives one")),
            ("typed", lambda c: _("Type the mark")),
            ("scanned", lambda c: _("Scan the mark's barcode")),
        ):
            choices.append({"list_name": "mark_entry", "name": value, **labels.label(text)})
        question(
            {
                "type": "text",
                "name": "cites_mark",
                "relevant": "${mark_entry} = 'typed'",
                "required": "yes",
                **labels.label(lambda c: _("CITES mark")),
            }
        )
        question(
            {
                "type": "barcode",
                "name": "cites_mark_scan",
                "relevant": "${mark_entry} = 'scanned'",
                "required": "yes",
                **labels.label(lambda c: _("Scan the mark")),
            }
        )

    for number, name in enumerate(PHOTO_FIELDS, start=1):
        row = {
            "type": "image",
            "name": name,
            "parameters": f"max-pixels={PHOTO_MAX_PIXELS}",
            **labels.label(lambda c, n=number: _("Photo %(number)s") % {"number": n}),
        }
        if number == 1:
            row["required"] = "yes"
        else:
            row["relevant"] = "${" + PHOTO_FIELDS[number - 2] + "} != ''"
        question(row)
    question(
        {"type": "geopoint", "name": "location", **labels.label(lambda c: _("Location (optional)"))}
    )
    with translation.override(default_language):
        title = _("Register item")
    return {
        "survey": survey,
        "choices": choices,
        "settings": _settings(
            title=title, form_id=REGISTER_FORM_ID, languages=languages, default=default_language
        ),
    }


def stocktake_workbook(*, languages: list[str], default_language: str) -> dict:
    labels = _Labels(languages)
    survey = [
        {
            "type": "select_one sites",
            "name": "site",
            "required": "yes",
            **labels.label(lambda c: _("Store")),
        },
        {
            "type": "select_one_from_file items.csv",
            "name": "item",
            "required": "yes",
            "choice_filter": "site=${site}",
            **labels.label(lambda c: _("Item (SMS number, type, mark)")),
        },
        {
            "type": "select_one yes_no",
            "name": "found",
            "required": "yes",
            **labels.label(lambda c: _("Found?")),
        },
        {
            "type": "select_one yes_no",
            "name": "damaged",
            "relevant": "${found} = 'yes'",
            "required": "yes",
            **labels.label(lambda c: _("Damaged?")),
        },
        {
            "type": "decimal",
            "name": "weight_kg",
            "relevant": "${found} = 'yes'",
            "constraint": ". > 0",
            **labels.text("constraint_message", lambda c: _("Enter a value greater than 0.")),
            **labels.label(lambda c: _("Weight now (kg)")),
        },
        {
            "type": "image",
            "name": "photo",
            "relevant": "${found} = 'yes'",
            "parameters": f"max-pixels={PHOTO_MAX_PIXELS}",
            **labels.label(lambda c: _("Photo")),
        },
        {"type": "text", "name": "notes", **labels.label(lambda c: _("Notes"))},
    ]
    with translation.override(default_language):
        title = _("Stock-take check")
    return {
        "survey": survey,
        "choices": _yes_no_choices(labels) + _sites_choices(labels),
        "settings": _settings(
            title=title, form_id=STOCKTAKE_FORM_ID, languages=languages, default=default_language
        ),
    }


def definitions_hash(workbook: dict) -> str:
    """A short hash of everything the form is built from (the version is left out)."""
    canonical = json.dumps(
        {**workbook, "settings": [{**workbook["settings"][0], "version": ""}]},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def build(
    *,
    kind: str,
    languages: list[str],
    default_language: str,
    validate: bool = False,
    version: str | None = None,
) -> BuiltForm:
    """Build one form; ``validate`` runs ODK Validate (Java) on the XForm."""
    languages = list(dict.fromkeys([default_language, *languages]))
    if kind == "register":
        workbook, form_id = (
            register_workbook(languages=languages, default_language=default_language),
            REGISTER_FORM_ID,
        )
    else:
        workbook, form_id = (
            stocktake_workbook(languages=languages, default_language=default_language),
            STOCKTAKE_FORM_ID,
        )
    version = version or definitions_hash(workbook)
    workbook["settings"][0]["version"] = version
    result = convert(xlsform=workbook, validate=validate, pretty_print=False)
    return BuiltForm(
        kind=kind, xml_form_id=form_id, version=version, workbook=workbook, xform=result.xform
    )
