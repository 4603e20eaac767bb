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
from dataclasses import dataclass, field
from functools import cached_property

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
    try:
        name = translation.get_language_info(code)["name"]
    except KeyError:
        name = code
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


# --- The register form: one builder per group of questions ------------------------------
#
# register_workbook runs REGISTER_BUILDERS in order; each adds its questions
# (and the choice lists they use) to a _Form. A section of the form is a
# builder, or a few: to group, reorder or add questions, change or add a
# builder, not a loop in the middle of another one.


@dataclass
class _Form:
    """The survey and choices rows being built, in every language of the country."""

    labels: _Labels
    types: list[ItemType]
    survey: list[dict] = field(default_factory=list)
    choices: list[dict] = field(default_factory=list)

    @cached_property
    def type_codes(self) -> set[str]:
        return {t.code for t in self.types}

    def only_for(self, codes: set[str]) -> dict:
        """A ``relevant`` showing a question for these types only (nothing if all)."""
        expression = _types_expression(codes, self.type_codes)
        return {"relevant": expression} if expression else {}

    def question(self, row: dict, *, constraint_message=None, hint=None) -> None:
        if constraint_message:
            row.update(self.labels.text("constraint_message", constraint_message))
        if hint:
            row.update(self.labels.text("hint", hint))
        self.survey.append(row)

    def choice(self, list_name: str, name: str, label, **columns) -> None:
        """One choice; ``label(code)`` gives its text in each language."""
        self.choices.append(
            {"list_name": list_name, "name": name, **columns, **self.labels.label(label)}
        )


def _site_questions(form: _Form) -> None:
    form.choices += _sites_choices(form.labels)
    form.question(
        {
            "type": "select_one sites",
            "name": "site",
            "required": "yes",
            **form.labels.label(lambda c: _("Store")),
        }
    )


def _type_questions(form: _Form) -> None:
    """Category, then the type among that category's (a choice filter)."""
    categories = ItemCategory.objects.filter(enabled=True, types__in=form.types).distinct()
    for category in categories:
        form.choice("categories", category.code, lambda c, x=category: x.label(c))
    form.question(
        {
            "type": "select_one categories",
            "name": "category",
            "required": "yes",
            **form.labels.label(lambda c: _("Category")),
        }
    )
    for item_type in form.types:
        form.choice(
            "types",
            item_type.code,
            lambda c, x=item_type: x.label(c),
            category=item_type.category.code,
        )
    form.question(
        {
            "type": "select_one types",
            "name": "item_type",
            "required": "yes",
            "choice_filter": "category=${category}",
            **form.labels.label(lambda c: _("Item type")),
        }
    )


# The item fields' questions: the first rule whose field set holds the name
# gives the question's type and constraint (and its choice list), with the
# message shown when the constraint fails; any other field is text.


def _decimal_field(form: _Form, name: str):
    return {"type": "decimal", "constraint": ". > 0"}, lambda c: _("Enter a value greater than 0.")


def _integer_field(form: _Form, name: str):
    return {"type": "integer", "constraint": ". >= 1", "required": "yes"}, lambda c: _(
        "Enter at least 1."
    )


def _date_field(form: _Form, name: str):
    return {"type": "date", "constraint": ". <= today()"}, lambda c: _(
        "This date is in the future."
    )


def _yes_no_field(form: _Form, name: str):
    return {"type": "select_one yes_no"}, None


def _choice_field(form: _Form, name: str):
    choices = dict(StockItem._meta.get_field(name).choices)
    for value in choices:
        form.choice(name, value, lambda c, v=value: choices[v])
    return {"type": f"select_one {name}"}, None


def _country_field(form: _Form, name: str):
    return {"type": "text", "constraint": "regex(., '^[A-Z]{2}$')"}, lambda c: _(
        "Use the two-letter ISO country code, e.g. KE."
    )


ITEM_FIELD_RULES = (
    (DECIMAL_FIELDS, _decimal_field),
    (INTEGER_FIELDS, _integer_field),
    (DATE_FIELDS, _date_field),
    (YES_NO_FIELDS, _yes_no_field),
    (CHOICE_FIELDS, _choice_field),
    (COUNTRY_FIELDS, _country_field),
)
# Columns of single fields, over their rule's.
ITEM_FIELD_COLUMNS = {
    "weight_kg": {"required": "yes"},
    "weight_is_final": {"default": "yes"},
    "received_on": {"default": "today()", "required": "yes"},
}


def _item_fields_by_type(types: list[ItemType]) -> dict[str, set[str]]:
    """Each item field that applies to some type (in the web form's order) and its types."""
    applies: dict[str, set[str]] = {}
    for item_type in types:
        for names in fields_for_type(item_type).values():
            for name in names:
                applies.setdefault(name, set()).add(item_type.code)
    return applies


def _item_field_questions(form: _Form) -> None:
    """The item's own fields, each shown for the types it applies to."""
    for name, codes in _item_fields_by_type(form.types).items():
        rule = next((rule for names, rule in ITEM_FIELD_RULES if name in names), None)
        columns, message = rule(form, name) if rule else ({"type": "text"}, None)
        form.question(
            {
                "name": name,
                **form.labels.label(_field_label(name)),
                **form.only_for(codes),
                **columns,
                **ITEM_FIELD_COLUMNS.get(name, {}),
            },
            constraint_message=message,
        )


def _choice_label(choice: dict):
    """A custom choice's label in a language: its own, else its first, else its value."""
    labels = choice.get("labels") or {}
    return lambda code: labels.get(code) or next(iter(labels.values()), choice["value"])


def _custom_field_question(form: _Form, definition: CustomFieldDefinition) -> dict:
    kinds = CustomFieldDefinition.FieldType
    name = custom_question_name(definition.key)
    kind = definition.field_type
    if kind in (kinds.CHOICE, kinds.MULTI_CHOICE):
        # The question's name is already prefixed (cf_…): its list is named the same.
        list_name = name
        for choice in definition.choices:
            form.choice(list_name, str(choice["value"]), _choice_label(choice))
        select = "select_one" if kind == kinds.CHOICE else "select_multiple"
        return {"type": f"{select} {list_name}"}
    if kind == kinds.BOOLEAN:
        return {"type": "select_one yes_no"}
    return {
        "type": {
            kinds.TEXT: "text",
            kinds.INTEGER: "integer",
            kinds.DECIMAL: "decimal",
            kinds.DATE: "date",
        }[kind]
    }


def _custom_field_questions(form: _Form) -> None:
    """The country's own fields, each shown for the types it applies to."""
    definitions = CustomFieldDefinition.objects.filter(active=True).order_by("order", "key")
    applies: dict[str, set[str]] = {}
    for item_type in form.types:
        for definition in definitions_for_type(item_type):
            applies.setdefault(definition.key, set()).add(item_type.code)
    for definition in definitions:
        codes = applies.get(definition.key)
        if not codes:
            continue

        def label(code, d=definition):
            text = d.label(code)
            return f"{text} ({d.unit})" if d.unit else text

        row = {
            "name": custom_question_name(definition.key),
            **form.labels.label(label),
            **form.only_for(codes),
        }
        if definition.required:
            row["required"] = "yes"
        row.update(_custom_field_question(form, definition))
        form.question(row)


def _mark_questions(form: _Form) -> None:
    """For the types that carry a CITES mark: none yet, typed, or scanned."""
    marked = {t.code for t in form.types if t.marking != "none"}
    if not marked:
        return
    form.question(
        {
            "type": "select_one mark_entry",
            "name": "mark_entry",
            "required": "yes",
            **form.labels.label(lambda c: _("CITES mark already on the item?")),
            **form.only_for(marked),
        }
    )
    form.choice("mark_entry", "none", lambda c: _("No mark yet: SMS gives one"))
    form.choice("mark_entry", "typed", lambda c: _("Type the mark"))
    form.choice("mark_entry", "scanned", lambda c: _("Scan the mark's barcode"))
    form.question(
        {
            "type": "text",
            "name": "cites_mark",
            "relevant": "${mark_entry} = 'typed'",
            "required": "yes",
            **form.labels.label(lambda c: _("CITES mark")),
        }
    )
    form.question(
        {
            "type": "barcode",
            "name": "cites_mark_scan",
            "relevant": "${mark_entry} = 'scanned'",
            "required": "yes",
            **form.labels.label(lambda c: _("Scan the mark")),
        }
    )


def _photo_questions(form: _Form) -> None:
    """1 to MAX_PHOTOS photos: the first required, each next one offered after the last."""
    for number, name in enumerate(PHOTO_FIELDS, start=1):
        row = {
            "type": "image",
            "name": name,
            "parameters": f"max-pixels={PHOTO_MAX_PIXELS}",
            **form.labels.label(lambda c, n=number: _("Photo %(number)s") % {"number": n}),
        }
        if number == 1:
            row["required"] = "yes"
        else:
            row["relevant"] = "${" + PHOTO_FIELDS[number - 2] + "} != ''"
        form.question(row)


def _position_question(form: _Form) -> None:
    form.question(
        {
            "type": "geopoint",
            "name": "location",
            **form.labels.label(lambda c: _("Location (optional)")),
        }
    )


REGISTER_BUILDERS = (
    _site_questions,
    _type_questions,
    _item_field_questions,
    _custom_field_questions,
    _mark_questions,
    _photo_questions,
    _position_question,
)


def register_workbook(*, languages: list[str], default_language: str) -> dict:
    labels = _Labels(languages)
    types = ItemType.objects.filter(enabled=True, category__enabled=True).select_related("category")
    form = _Form(labels=labels, types=list(types), choices=_yes_no_choices(labels))
    for build_questions in REGISTER_BUILDERS:
        build_questions(form)
    with translation.override(default_language):
        title = _("Register item")
    return {
        "survey": form.survey,
        "choices": form.choices,
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
