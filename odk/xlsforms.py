"""The country's XLSForms, generated from its own definitions (country schema reads).

Two forms, built as pyxform workbook dicts and converted to XForm XML:

* *Register item* (``sms_register_item``), in sections (REGISTER_SECTIONS):
  what the item is (category, type, the type's own fields), where it comes
  from, arrival (the store), DNA sample, the country's own fields, the CITES
  mark (typed or scanned, checked against the category's mark pattern, the
  same regular expression as the server's ``stock.marks.mark_regex``), 1-5
  photos. No position: see the README (*The forms*). Labels, hints, required
  and constraint messages in every language of the country; start, end,
  deviceid and username metadata; each saved form named by its type, weight
  and mark (``instance_name``).
* *Stock-take check* (``sms_stocktake_check``): the store, then the item,
  scanned from its label (the QR code holds the SMS number) or searched in
  the store's part of the *items* entity list (``items.csv``); found /
  damaged, re-weigh, photo.

Both forms offer a store manager only their own stores: the store list
carries, per store, the user names of the store managers who see it, and is
filtered by Collect's ``username`` (set by SMS's Collect QR code,
odk.services.collect_settings). That is a convenience, not the wall: the sync
applies each submission as the store manager whose app user sent it, in their
store scope (odk.sync.apply).

The version of each form is a hash of what it is built from, so any change to
a site, type, field definition or a store manager's stores gives a new
version, and nothing else does. Question names are what odk.sync reads back
(``flat_answers`` undoes the sections' nesting): keep them in step.
"""

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from pyxform.xls2xform import convert

from accounts.models import User
from accounts.roles import ROLES, STORE_MANAGER
from stock import field_rules, marks
from stock.custom_fields import definitions_for_type
from stock.field_rules import MEASUREMENTS, fields_for_type
from stock.models import (
    CitesClass,
    CustomFieldDefinition,
    ItemCategory,
    ItemType,
    Site,
    StockItem,
)
from stock.scope import visible_sites
from tenants.current import current_country_code

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

# Upper limits that catch a slip of the finger (a comma typed as nothing:
# 1235 kg for 12.35). The heaviest tusks on record weigh about 100 kg and
# measure about 3.5 m; the largest seizures of scales are about 15 tonnes.
MAX_PIECE_KG = 200
MAX_LOT_KG = 50_000
MAX_LENGTH_CM = 500
# A DNA sample is a few grams; never more than the item.
MAX_DNA_G = 1000

# The register form's sections (groups), in order: (name, the field_rules
# section whose item fields it holds). Question names stay unique across the
# form; odk.sync reads them back flat (flat_answers).
REGISTER_SECTIONS = (
    ("what", "description"),
    ("origin", "origin"),
    ("arrival", "receipt"),
    ("dna", "dna"),
    ("custom", None),
    ("mark", None),
    ("photos", None),
)
SECTION_TITLES = {
    "what": lambda: _("What the item is"),
    "origin": lambda: _("Where it comes from"),
    "arrival": lambda: _("Arrival"),
    "dna": lambda: _("DNA sample"),
    "custom": lambda: _("The country's own fields"),
    "mark": lambda: _("CITES mark"),
    "photos": lambda: _("Photos"),
}
# Metadata of both forms: when the form was opened and saved, the device,
# and Collect's user name (SMS's, set by the QR code).
METADATA = ("start", "end", "deviceid", "username")
GROUP_NAMES = frozenset(name for name, _section in REGISTER_SECTIONS)


def flat_answers(row: dict) -> dict:
    """A submission's answers by question name: Central's OData nests each
    section's answers under the section's name ({"what": {"item_type": …}});
    a submission made before the sections (flat) comes back unchanged."""
    out = {}
    for key, value in row.items():
        if key in GROUP_NAMES and isinstance(value, dict):
            out.update(flat_answers(value))
        else:
            out[key] = value
    return out


def question_groups(workbook: dict) -> dict[str, tuple[str, ...]]:
    """Each question's sections (outermost first), as a submission nests it."""
    out, stack = {}, []
    for row in workbook["survey"]:
        if row["type"] == "begin_group":
            stack.append(row["name"])
        elif row["type"] == "end_group":
            stack.pop()
        else:
            out[row["name"]] = tuple(stack)
    return out


def custom_question_name(key: str) -> str:
    # Keys may contain "-" (slugs); XML names are safer with "_" and a letter
    # first. A key already starting with "cf_" is not prefixed twice.
    name = key.replace("-", "_")
    return name if name.startswith("cf_") else "cf_" + name


@dataclass(frozen=True)
class BuiltForm:
    kind: str
    xml_form_id: str
    version: str
    workbook: dict
    xform: str


def language_column(code: str) -> str:
    """pyxform's language column suffix: the language's own name and its code
    ("Français (fr)"), which Collect's language menu shows as it is."""
    try:
        name = capfirst(translation.get_language_info(code)["name_local"])
    except KeyError:
        name = code
    return f"{name} ({code})"


class _Labels:
    """Texts in every language of the country, as pyxform ``column::Lang (xx)`` columns."""

    def __init__(self, languages: list[str]):
        self.languages = languages

    def text(self, column: str, make) -> dict:
        """``make(code)`` is called once per language with that language active."""
        out = {}
        for code in self.languages:
            with translation.override(code):
                out[f"{column}::{language_column(code)}"] = str(make(code))
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


def _store_managers_by_site() -> dict[int, list[str]]:
    """Each site's store managers (user names), through stock.scope."""
    managers = (
        User.objects.filter(is_active=True, groups__name=ROLES[STORE_MANAGER].name)
        .distinct()
        .order_by("username")
    )
    out: dict[int, list[str]] = {}
    for manager in managers:
        for site_id in visible_sites(manager).values_list("pk", flat=True):
            out.setdefault(site_id, []).append(manager.username)
    return out


def _sites_choices(labels: _Labels) -> list[dict]:
    """The active stores, each with ``managers``: "name1 name2" (for the filter)."""
    managers = _store_managers_by_site()
    # A store no manager sees has no ``managers`` (pyxform refuses an empty first one).
    return [
        {
            "list_name": "sites",
            "name": site.code,
            **({"managers": " ".join(managers[site.pk])} if managers.get(site.pk) else {}),
            **labels.label(lambda c, s=site: s.name),
        }
        for site in Site.objects.filter(active=True).order_by("name")
    ]


# A store manager is offered their own stores; with no user name (a Collect
# set up by hand, a web form in Central) every store, the sync decides. The
# store already chosen stays offered: an edit in Central by a web user (whose
# user name is no store manager's) keeps its answer.
SITES_FILTER = "${username} = '' or selected(managers, ${username}) or name = ${site}"


def _metadata_rows() -> list[dict]:
    return [{"type": name, "name": name} for name in METADATA]


def _settings(*, title: str, form_id: str, default: str, instance_name: str = "") -> list[dict]:
    row = {
        "form_title": title,
        "form_id": form_id,
        "version": "",
        "default_language": language_column(default),
    }
    if instance_name:
        row["instance_name"] = instance_name
    return [row]


# --- The register form: one builder per section ------------------------------------------
#
# register_workbook opens each section of REGISTER_SECTIONS (a group shown as
# one screen in Collect) and runs its builders (REGISTER_BUILDERS); each adds
# its questions (and the choice lists they use) to a _Form. To reorder or add
# questions, change or add a builder, not a loop in the middle of another one.


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

    def question(self, row: dict, *, constraint_message=None, hint=None, required=None) -> None:
        """One question; ``required`` is its message (and makes it required)."""
        if constraint_message:
            row.update(self.labels.text("constraint_message", constraint_message))
        if hint:
            row.update(self.labels.text("hint", hint))
        if required or row.get("required") == "yes":
            row["required"] = "yes"
            row.update(
                self.labels.text("required_message", required or (lambda c: _("Answer this.")))
            )
        self.survey.append(row)

    def choice(self, list_name: str, name: str, label, **columns) -> None:
        """One choice; ``label(code)`` gives its text in each language."""
        self.choices.append(
            {"list_name": list_name, "name": name, **columns, **self.labels.label(label)}
        )

    def begin(self, name: str, *, relevant: str = "") -> None:
        row = {
            "type": "begin_group",
            "name": name,
            "appearance": "field-list",
            **self.labels.label(lambda c: SECTION_TITLES[name]()),
        }
        if relevant:
            row["relevant"] = relevant
        self.survey.append(row)

    def end(self, name: str) -> None:
        self.survey.append({"type": "end_group", "name": name})


def _site_questions(form: _Form) -> None:
    form.choices += _sites_choices(form.labels)
    form.question(
        {
            "type": "select_one sites",
            "name": "site",
            "choice_filter": SITES_FILTER,
            **form.labels.label(lambda c: _("Store")),
        },
        hint=lambda c: _("The store the item is kept in."),
        required=lambda c: _("Choose the store."),
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
            **form.labels.label(lambda c: _("Category")),
        },
        required=lambda c: _("Choose the category."),
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
            "choice_filter": "category=${category}",
            **form.labels.label(lambda c: _("Item type")),
        },
        hint=lambda c: _("The types of the category chosen above."),
        required=lambda c: _("Choose the item type."),
    )


# The item fields' questions: the first rule whose field set holds the name
# gives the question's type and constraint (and its choice list), with the
# message shown when the constraint fails; any other field is text.


def _weight_field(form: _Form, name: str):
    lots = {t.code for t in form.types if t.is_lot}
    pieces = form.type_codes - lots
    if not lots:
        limit = str(MAX_PIECE_KG)
    elif not pieces:
        limit = str(MAX_LOT_KG)
    else:
        lot = "selected('" + " ".join(sorted(lots)) + "', ${item_type})"
        limit = f"if({lot}, {MAX_LOT_KG}, {MAX_PIECE_KG})"
    return (
        {"type": "decimal", "constraint": f". > 0 and . <= {limit}"},
        lambda c: (
            _(
                "Enter the weight in kilograms: more than 0, at most %(piece)s kg for a piece "
                "and %(lot)s kg for a lot."
            )
            % {"piece": MAX_PIECE_KG, "lot": f"{MAX_LOT_KG:,}".replace(",", "\u202f")}
        ),
    )


def _length_field(form: _Form, name: str):
    return (
        {"type": "decimal", "constraint": f". > 0 and . <= {MAX_LENGTH_CM}"},
        lambda c: (
            _("Enter a length in centimetres: more than 0, at most %(max)s.")
            % {"max": MAX_LENGTH_CM}
        ),
    )


def _dna_weight_field(form: _Form, name: str):
    constraint = (
        f". > 0 and . <= {MAX_DNA_G} and (${{weight_kg}} = '' or . <= ${{weight_kg}} * 1000)"
    )
    return (
        {"type": "decimal", "constraint": constraint},
        lambda c: (
            _(
                "Enter the grams removed: more than 0, at most %(max)s g and never more than the item."
            )
            % {"max": MAX_DNA_G}
        ),
    )


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
    return {"type": "text", "constraint": "regex(., '^[A-Za-z]{2}$')"}, lambda c: _(
        "Use the two-letter ISO country code, e.g. KE."
    )


ITEM_FIELD_RULES = (
    ({"weight_kg"}, _weight_field),
    (set(MEASUREMENTS), _length_field),
    ({"dna_weight_removed_g"}, _dna_weight_field),
    (DECIMAL_FIELDS, _length_field),
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
ITEM_FIELD_HINTS = {
    "weight_kg": lambda c: _("On the store's scale, in kilograms (e.g. 12.35)."),
    "weight_is_final": lambda c: _("No if it will be weighed again (e.g. still drying)."),
    "species": lambda c: _("If known, e.g. Loxodonta africana."),
    "length_outer_cm": lambda c: _("Along the outer curve, in centimetres."),
    "length_inner_cm": lambda c: _("Along the inner curve, in centimetres."),
    "lip_circumference_cm": lambda c: _("Around the base (the lip), in centimetres."),
    "base_circumference_cm": lambda c: _("Around the base, in centimetres."),
    "length_cm": lambda c: _("The longest length, in centimetres."),
    "pieces": lambda c: _("How many pieces the lot holds."),
    "bags": lambda c: _("How many bags the lot is packed in."),
    "court_hold": lambda c: _("Yes if a court ordered it kept as evidence."),
    "case_reference": lambda c: _("The case or seizure file number."),
    "exhibit_reference": lambda c: _("The exhibit number given by the police or the court."),
    "country_of_origin": lambda c: _("Two letters, e.g. KE."),
    "country_of_seizure": lambda c: _("Two letters, e.g. KE."),
    "acquired_on": lambda c: _("The day of the seizure, confiscation or find."),
    "received_on": lambda c: _("The day the item came into this store."),
    "received_by": lambda c: _("Who took the item in."),
    "dna_sample_id": lambda c: _("Only if a sample was taken from this item."),
    "dna_weight_removed_g": lambda c: _("In grams."),
    "notes": lambda c: _("Anything else worth recording."),
}
ITEM_FIELD_REQUIRED = {
    "weight_kg": lambda c: _("Enter the weight in kilograms."),
    "received_on": lambda c: _("Enter the day the item arrived."),
    "pieces": lambda c: _("A lot needs its number of pieces (at least 1)."),
    "bags": lambda c: _("A lot needs its number of bags (at least 1)."),
}


# The item fields in the form's order: the questions every type asks, then
# each kind's own, notes last (field_rules' lists, read once).
FIELD_ORDER = list(
    dict.fromkeys(
        [
            *field_rules.GENERAL_FIELDS,
            *field_rules.LOT_FIELDS,
            *field_rules.IVORY_FIELDS,
            *field_rules.HORN_FIELDS,
            *field_rules.OTHER_PIECE_FIELDS,
            *field_rules.ORIGIN_FIELDS,
            *field_rules.RECEIPT_FIELDS,
            *field_rules.DNA_FIELDS,
            *field_rules.NOTES_FIELDS,
        ]
    )
)


def _item_fields_by_type(types: list[ItemType]) -> dict[str, dict[str, set[str]]]:
    """For each field_rules section, its item fields that apply to some type
    (in FIELD_ORDER) with their types. Notes close the description."""
    by_section: dict[str, dict[str, set[str]]] = {}
    for item_type in types:
        for section, names in fields_for_type(item_type).items():
            section = "description" if section == "notes" else section
            for name in names:
                by_section.setdefault(section, {}).setdefault(name, set()).add(item_type.code)
    position = {name: n for n, name in enumerate(FIELD_ORDER)}
    return {
        section: dict(sorted(fields.items(), key=lambda pair: position.get(pair[0], len(position))))
        for section, fields in by_section.items()
    }


def _item_field_questions(form: _Form, section: str) -> None:
    """The item's own fields of a section, each shown for the types it applies to."""
    for name, codes in _item_fields_by_type(form.types).get(section, {}).items():
        rule = next((rule for names, rule in ITEM_FIELD_RULES if name in names), None)
        columns, message = rule(form, name) if rule else ({"type": "text"}, None)
        row = {
            "name": name,
            **form.labels.label(_field_label(name)),
            **form.only_for(codes),
            **columns,
            **ITEM_FIELD_COLUMNS.get(name, {}),
        }
        if name in ITEM_FIELD_REQUIRED:
            row["required"] = "yes"
        form.question(
            row,
            constraint_message=message,
            hint=ITEM_FIELD_HINTS.get(name),
            required=ITEM_FIELD_REQUIRED.get(name),
        )


def _description_questions(form: _Form) -> None:
    _item_field_questions(form, "description")


def _origin_questions(form: _Form) -> None:
    _item_field_questions(form, "origin")


def _arrival_questions(form: _Form) -> None:
    _item_field_questions(form, "receipt")


def _dna_questions(form: _Form) -> None:
    _item_field_questions(form, "dna")


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


def _builtin_labels(languages: list[str]) -> set[str]:
    """The labels of the item fields the form asks, in every language, folded."""
    out = set()
    for code in languages:
        with translation.override(code):
            for name in FIELD_ORDER:
                out.add(str(StockItem._meta.get_field(name).verbose_name).casefold())
    return out


def _repeats_builtin(definition: CustomFieldDefinition, languages: list[str]) -> bool:
    """A custom field asking what a built-in question asks (same key or label)."""
    if definition.key.replace("-", "_") in FIELD_ORDER:
        return True
    builtin = _builtin_labels(languages)
    return any(
        str(label).casefold() in builtin for label in (definition.labels or {}).values() if label
    )


def _custom_applies(form: _Form) -> dict[str, set[str]]:
    applies: dict[str, set[str]] = {}
    for item_type in form.types:
        for definition in definitions_for_type(item_type):
            applies.setdefault(definition.key, set()).add(item_type.code)
    return applies


def _custom_definitions(form: _Form) -> list[tuple[CustomFieldDefinition, set[str]]]:
    definitions = CustomFieldDefinition.objects.filter(active=True).order_by("order", "key")
    applies = _custom_applies(form)
    return [
        (d, applies[d.key])
        for d in definitions
        if applies.get(d.key) and not _repeats_builtin(d, form.labels.languages)
    ]


def _custom_field_questions(form: _Form) -> None:
    """The country's own fields, each shown for the types it applies to; one
    that repeats a built-in question (same key or label) is left out."""
    for definition, codes in _custom_definitions(form):

        def label(code, d=definition):
            text = d.label(code)
            return f"{text} ({d.unit})" if d.unit else text

        row = {
            "name": custom_question_name(definition.key),
            **form.labels.label(label),
            **form.only_for(codes),
        }
        row.update(_custom_field_question(form, definition))
        form.question(row, required=(lambda c: _("Answer this.")) if definition.required else None)


# --- The CITES mark ---


def _mark_due_expression(form: _Form) -> str:
    """'yes' when SMS will give the item a mark (stock.marks.mark_required),
    'length' when it can't tell without a length, else 'no'."""
    always, measured = set(), set()
    for t in form.types:
        if t.marking == "always" or (t.marking == "cites_ivory" and t.is_whole):
            always.add(t.code)
        elif t.marking == "cites_ivory" and t.cites_class != CitesClass.IVORY_WORKED:
            measured.add(t.code)
    expression = "'no'"
    asked = {row.get("name") for row in form.survey}
    lengths = [n for n in ("length_outer_cm", "length_cm") if n in asked]
    if measured and lengths:
        long_enough = " or ".join(f"number(${{{n}}}) >= {marks.MIN_LENGTH_CM}" for n in lengths)
        no_length = " and ".join(f"${{{n}}} = ''" for n in lengths)
        heavy = f"number(${{weight_kg}}) >= {marks.MIN_WEIGHT_KG}"
        expression = (
            f"if(selected('{' '.join(sorted(measured))}', ${{item_type}}), "
            f"if({heavy} and ({long_enough}), 'yes', if({heavy} and {no_length}, 'length', 'no')), "
            f"{expression})"
        )
    if always:
        expression = (
            f"if(selected('{' '.join(sorted(always))}', ${{item_type}}), 'yes', {expression})"
        )
    return expression


def case_insensitive(regex: str) -> str:
    """``regex`` matching either case: each literal letter becomes [Xx] (XPath
    regex() has no flags; escapes such as \\s and \\d are kept)."""
    out, escaped = [], False
    for char in regex:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif char.isalpha() and char.upper() != char.lower():
            out.append(f"[{char.upper()}{char.lower()}]")
        else:
            out.append(char)
    return "".join(out)


def mark_form_regex(pattern: str, *, country: str) -> str:
    """The form's regular expression for a mark of ``pattern``: the server's
    (stock.marks.mark_regex), anchored, blanks around allowed, either case."""
    return (
        r"^\s*"
        + case_insensitive(marks.mark_regex(pattern, country=country, named=False))
        + r"\s*$"
    )


def _mark_constraint(form: _Form, marked: set[str]):
    """The constraint on a typed or scanned mark (per category's pattern), and
    ``examples(code)``: a mark of each pattern, with its categories when they differ."""
    country = current_country_code()
    by_pattern: dict[str, list[ItemCategory]] = {}
    for category in (
        ItemCategory.objects.filter(enabled=True, types__code__in=marked)
        .distinct()
        .order_by("order", "code")
    ):
        by_pattern.setdefault(marks.pattern_of(category), []).append(category)
    year = timezone.localdate().year
    samples = {
        p: marks.format_mark(p, country=country, year=year, serial=127, weight_kg=14)
        for p in by_pattern
    }

    def examples(code) -> str:
        if len(by_pattern) == 1:
            return next(iter(samples.values()))
        return ", ".join(
            f"{samples[p]} ({', '.join(c.label(code) for c in categories)})"
            for p, categories in by_pattern.items()
        )

    checks = []
    for pattern, categories in by_pattern.items():
        regex = mark_form_regex(pattern, country=country)
        if "'" in regex:  # can't be an XPath literal: the server checks it alone
            continue
        test = f"regex(., '{regex}')"
        if len(by_pattern) > 1:
            codes = " ".join(c.code for c in categories)
            test = f"(selected('{codes}', ${{category}}) and {test})"
        checks.append(test)
    return " or ".join(checks), examples


def _mark_questions(form: _Form) -> None:
    """For the types that carry a CITES mark: none yet, typed, or scanned."""
    marked = {t.code for t in form.types if t.marking != "none"}
    if not marked:
        return
    form.survey.append(
        {"type": "calculate", "name": "mark_due", "calculation": _mark_due_expression(form)}
    )
    form.question(
        {
            "type": "select_one mark_entry",
            "name": "mark_entry",
            "choice_filter": "due = 'any' or due = ${mark_due}",
            **form.labels.label(lambda c: _("CITES mark already on the item?")),
            **form.only_for(marked),
        },
        required=lambda c: _("Say whether the item carries a mark."),
    )
    form.choice("mark_entry", "none", lambda c: _("No mark yet: SMS will give it one"), due="yes")
    form.choice(
        "mark_entry",
        "none_small",
        lambda c: _(
            "No mark: SMS gives none to this piece (only whole tusks and raw pieces "
            "of 20 cm and 1 kg or more are marked)"
        ),
        due="no",
    )
    form.choice(
        "mark_entry",
        "none_unmeasured",
        lambda c: _(
            "No mark yet: SMS gives one if the piece is 20 cm and 1 kg or more (enter its length)"
        ),
        due="length",
    )
    form.choice("mark_entry", "typed", lambda c: _("Type the mark"), due="any")
    form.choice("mark_entry", "scanned", lambda c: _("Scan the mark's barcode"), due="any")
    constraint, examples = _mark_constraint(form, marked)
    checked = {"constraint": constraint} if constraint else {}

    def message(c):
        return _("This mark does not follow the country's pattern, e.g. %(example)s.") % {
            "example": examples(c)
        }

    form.question(
        {
            "type": "text",
            "name": "cites_mark",
            "relevant": "${mark_entry} = 'typed'",
            **checked,
            **form.labels.label(lambda c: _("CITES mark")),
        },
        constraint_message=message if constraint else None,
        hint=lambda c: _("As written on the item, e.g. %(example)s.") % {"example": examples(c)},
        required=lambda c: _("Type the mark."),
    )
    form.question(
        {
            "type": "barcode",
            "name": "cites_mark_scan",
            "relevant": "${mark_entry} = 'scanned'",
            **checked,
            **form.labels.label(lambda c: _("Scan the mark")),
        },
        constraint_message=message if constraint else None,
        required=lambda c: _("Scan the mark."),
    )
    form.survey.append(
        {
            "type": "calculate",
            "name": "mark_text",
            "calculation": "if(${mark_entry} = 'typed', ${cites_mark}, "
            "if(${mark_entry} = 'scanned', ${cites_mark_scan}, ''))",
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
            form.question(
                row,
                hint=lambda c: _("The whole item, with its mark if it has one."),
                required=lambda c: _("Take at least one photo."),
            )
        else:
            row["relevant"] = "${" + PHOTO_FIELDS[number - 2] + "} != ''"
            form.question(row)


# Each section's builders, in order. A section with no question for any type
# (no DNA field, no custom field) is left out of the form.
REGISTER_BUILDERS = {
    "what": (_type_questions, _description_questions),
    "origin": (_origin_questions,),
    "arrival": (_site_questions, _arrival_questions),
    "dna": (_dna_questions,),
    "custom": (_custom_field_questions,),
    "mark": (_mark_questions,),
    "photos": (_photo_questions,),
}


def _instance_name(form: _Form) -> str:
    """Each saved form named by its type, weight and mark ("Whole tusk · 12.5 kg · XD 26/1/12")."""
    parts = ["jr:choice-name(${item_type}, '${item_type}')", "' · '", "${weight_kg}", "' kg'"]
    if any(t.marking != "none" for t in form.types):
        parts.append("if(${mark_text} != '', concat(' · ', ${mark_text}), '')")
    return "concat(" + ", ".join(parts) + ")"


def register_workbook(*, languages: list[str], default_language: str) -> dict:
    labels = _Labels(languages)
    types = ItemType.objects.filter(enabled=True, category__enabled=True).select_related("category")
    form = _Form(labels=labels, types=list(types), choices=_yes_no_choices(labels))
    form.survey += _metadata_rows()
    section_types = {
        "custom": set().union(*(codes for _d, codes in _custom_definitions(form))),
        "mark": {t.code for t in form.types if t.marking != "none"},
    }
    for name, _section in REGISTER_SECTIONS:
        before = len(form.survey)
        codes = section_types.get(name)
        form.begin(name, relevant=_types_expression(codes, form.type_codes) if codes else "")
        for build_questions in REGISTER_BUILDERS[name]:
            build_questions(form)
        if len(form.survey) == before + 1:  # nothing asked: no section
            form.survey.pop()
            continue
        form.end(name)
    with translation.override(default_language):
        title = _("Register item")
    return {
        "survey": form.survey,
        "choices": form.choices,
        "settings": _settings(
            title=title,
            form_id=REGISTER_FORM_ID,
            default=default_language,
            instance_name=_instance_name(form),
        ),
    }


# --- The stock-take check -----------------------------------------------------------------

# The item's entity in items.csv: by its SMS number (scanned) in the store chosen.
_SCANNED = "instance('items')/root/item[site = ${site} and sms_number = normalize-space(${scan})]"


def stocktake_workbook(*, languages: list[str], default_language: str) -> dict:
    labels = _Labels(languages)
    choices = _yes_no_choices(labels) + _sites_choices(labels)
    choices += [
        {"list_name": "find_by", "name": "scan", **labels.label(lambda c: _("Scan its label"))},
        {
            "list_name": "find_by",
            "name": "search",
            **labels.label(lambda c: _("Search the store's list")),
        },
    ]
    survey = [
        *_metadata_rows(),
        {
            "type": "select_one sites",
            "name": "site",
            "required": "yes",
            "choice_filter": SITES_FILTER,
            **labels.label(lambda c: _("Store")),
            **labels.text("required_message", lambda c: _("Choose the store.")),
        },
        {
            "type": "select_one find_by",
            "name": "find_by",
            "required": "yes",
            "default": "scan",
            "appearance": "horizontal",
            **labels.label(lambda c: _("Find the item")),
            **labels.text("required_message", lambda c: _("Scan the label or search the list.")),
        },
        {
            "type": "barcode",
            "name": "scan",
            "relevant": "${find_by} = 'scan'",
            "required": "yes",
            "constraint": f"count({_SCANNED}) > 0",
            **labels.label(lambda c: _("Scan the item's label")),
            **labels.text(
                "hint", lambda c: _("The QR code on the label holds the item's SMS number.")
            ),
            **labels.text("required_message", lambda c: _("Scan the label.")),
            **labels.text(
                "constraint_message",
                lambda c: _(
                    "This SMS number is not in this store's list: check the label and the "
                    "store chosen, or search the list. An item registered since the form "
                    "was last updated shows after the next update."
                ),
            ),
        },
        {
            "type": "select_one_from_file items.csv",
            "name": "item_chosen",
            "relevant": "${find_by} = 'search'",
            "required": "yes",
            "choice_filter": "site=${site}",
            "appearance": "autocomplete",
            **labels.label(lambda c: _("Item (SMS number, mark, weight)")),
            **labels.text("hint", lambda c: _("Type part of the SMS number or of the mark.")),
            **labels.text("required_message", lambda c: _("Choose the item.")),
        },
        {
            "type": "calculate",
            "name": "item",
            "calculation": f"if(${{find_by}} = 'scan', {_SCANNED}/name, ${{item_chosen}})",
        },
        {
            "type": "calculate",
            "name": "item_label",
            "calculation": "instance('items')/root/item[name = ${item}]/label",
        },
        {
            "type": "note",
            "name": "item_shown",
            "relevant": "${item} != ''",
            **labels.label(lambda c: _("Item: ${item_label}")),
        },
        {
            "type": "select_one yes_no",
            "name": "found",
            "relevant": "${item} != ''",
            "required": "yes",
            **labels.label(lambda c: _("Found?")),
            **labels.text("required_message", lambda c: _("Say whether it was found.")),
        },
        {
            "type": "select_one yes_no",
            "name": "damaged",
            "relevant": "${found} = 'yes'",
            "required": "yes",
            **labels.label(lambda c: _("Damaged?")),
            **labels.text("required_message", lambda c: _("Say whether it is damaged.")),
        },
        {
            "type": "decimal",
            "name": "weight_kg",
            "relevant": "${found} = 'yes'",
            "constraint": f". > 0 and . <= {MAX_LOT_KG}",
            **labels.text(
                "constraint_message",
                lambda c: (
                    _("Enter the weight in kilograms: more than 0, at most %(max)s.")
                    % {"max": f"{MAX_LOT_KG:,}".replace(",", "\u202f")}
                ),
            ),
            **labels.label(lambda c: _("Weight now (kg)")),
            **labels.text("hint", lambda c: _("Leave empty if it was not weighed.")),
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
        "choices": choices,
        "settings": _settings(
            title=title,
            form_id=STOCKTAKE_FORM_ID,
            default=default_language,
            instance_name="${item_label}",
        ),
    }


def entity_label(*, sms_number: str, mark: str | None, weight_kg) -> str:
    """An item's label in the stock-take form's list: SMS number, mark, weight."""
    weight = ""
    if weight_kg is not None:
        weight = f"{marks.weight_text(Decimal(weight_kg))} kg"
    return " · ".join(part for part in (sms_number, mark or "—", weight) if part)


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
