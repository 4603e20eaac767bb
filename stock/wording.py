"""Changes in words: "Weight (kg): 12.400 → 12.350".

A correction records a field's name and its old and new values as JSON; a
custom field's change records the definition before and after. Pages that
show them (the item's history, Administration › Changes, a custom field's
page) say them with the fields' labels in the user's language and the values
as a person reads them (a choice's label, Yes/No, a date, a weight), never as
internal keys or Python dicts.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import display

from .models import CustomFieldDefinition, ItemType, Site, StockItem, localized_label

CUSTOM_PREFIX = "custom_values."
# Fields a correction can name (the item's own, then custom_values.<key>).
_NOT_SHOWN = {"id", "custom_values", "created_by", "created_at", "updated_at", "mark_flag"}


def item_field_label(name: str, definitions: dict | None = None) -> str:
    """The label of an item field or of a custom field ("custom_values.<key>")."""
    if name.startswith(CUSTOM_PREFIX):
        key = name[len(CUSTOM_PREFIX) :]
        if definitions is None:
            definitions = custom_definitions()
        definition = definitions.get(key)
        return definition.label() if definition else key
    try:
        return capfirst(StockItem._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a field since renamed: its stored name still says something
        return name


def custom_definitions() -> dict:
    """The country's custom field definitions by key (active or not)."""
    return {d.key: d for d in CustomFieldDefinition.objects.all()}


def item_field_choices() -> list[tuple[str, str]]:
    """[(field name, label)] of the fields a correction may name, for the
    "Field" filter: the item's fields, then the custom fields, by label."""
    own = []
    for model_field in StockItem._meta.get_fields():
        if not getattr(model_field, "concrete", False) or model_field.name in _NOT_SHOWN:
            continue
        if getattr(model_field, "auto_created", False):
            continue
        own.append((model_field.name, capfirst(model_field.verbose_name)))
    custom = [(f"{CUSTOM_PREFIX}{key}", d.label()) for key, d in custom_definitions().items()]
    return sorted(own, key=lambda c: str(c[1]).casefold()) + sorted(
        custom, key=lambda c: str(c[1]).casefold()
    )


def value_text(name: str, value, definitions: dict | None = None) -> str:
    """A recorded value of field ``name`` as a person reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if name.startswith(CUSTOM_PREFIX):
        if definitions is None:
            definitions = custom_definitions()
        definition = definitions.get(name[len(CUSTOM_PREFIX) :])
        if definition is not None:
            return _custom_text(definition, value)
        return plain(value)
    try:
        model_field = StockItem._meta.get_field(name)
    except FieldDoesNotExist:
        return plain(value)
    if model_field.choices:
        labels = {str(k): v for k, v in model_field.flatchoices}
        return str(labels.get(str(value), value))
    if name == "item_type":
        return _type_label(value)
    if name == "site":
        site = Site.objects.filter(pk=value).first()
        return site.name if site else str(value)
    if name == "weight_kg":
        return display.weight(value)
    internal = model_field.get_internal_type()
    if internal == "DateField":
        return display.day(value)
    if internal == "DateTimeField":
        try:
            return display.when(datetime.datetime.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if internal in ("DecimalField", "FloatField"):
        try:
            return display.number(Decimal(str(value)), abs(Decimal(str(value)).as_tuple().exponent))
        except (InvalidOperation, ValueError):
            return str(value)
    return plain(value)


def _type_label(value) -> str:
    item_type = ItemType.objects.filter(pk=value).first() if str(value).isdigit() else None
    if item_type is None:
        item_type = ItemType.objects.filter(code=value).first()
    return item_type.label() if item_type else str(value)


def _custom_text(definition, value) -> str:
    if definition.field_type == "boolean":
        return plain(value in (True, "true", "yes", "1", 1))
    if definition.field_type in ("choice", "multi_choice"):
        labels = {
            c.get("value"): localized_label(c.get("labels") or {}, None, fallback=c.get("value"))
            for c in definition.choices or []
        }
        values = value if isinstance(value, list) else [value]
        return ", ".join(str(labels.get(v, v)) for v in values)
    if definition.field_type == "date":
        return display.day(value)
    text = plain(value)
    return f"{text} {definition.unit}".strip() if definition.unit else text


def plain(value) -> str:
    """Any JSON value in words: Yes/No, lists joined, mappings as "a: b"."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if isinstance(value, list):
        return ", ".join(plain(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {plain(v)}" for k, v in value.items())
    return str(value)


# --- Custom field definitions ---------------------------------------------------------

DEFINITION_LABELS = {
    "key": gettext_lazy("Key"),
    "labels": gettext_lazy("Label"),
    "field_type": gettext_lazy("Type"),
    "unit": gettext_lazy("Unit"),
    "required": gettext_lazy("Required"),
    "choices": gettext_lazy("Choices"),
    "order": gettext_lazy("Order"),
    "active": gettext_lazy("In use"),
    "applies_to": gettext_lazy("Item types"),
}


def _definition_value(key: str, value) -> str:
    if value is None or value == "" or value == [] or value == {}:
        if key == "applies_to":
            return _("every type")
        return "—"
    if key == "labels" and isinstance(value, dict):
        languages = {code: str(name) for code, name in settings.LANGUAGES}
        return "; ".join(f"{languages.get(code, code)}: {text}" for code, text in value.items())
    if key == "field_type":
        return str(dict(CustomFieldDefinition.FieldType.choices).get(value, value))
    if key == "choices" and isinstance(value, list):
        return ", ".join(
            localized_label(c.get("labels") or {}, None, fallback=str(c.get("value", "")))
            if isinstance(c, dict)
            else str(c)
            for c in value
        )
    if key == "applies_to" and isinstance(value, list):
        return ", ".join(_type_label(code) for code in value)
    return plain(value)


def definition_changes(before: dict | None, after: dict | None) -> list[dict]:
    """[{"label", "old", "new"}] for each part of a custom field's definition
    that changed (every part that has a value, for a creation)."""
    before, after = before or {}, after or {}
    rows = []
    for key in [*DEFINITION_LABELS, *(k for k in after if k not in DEFINITION_LABELS)]:
        old, new = before.get(key), after.get(key)
        if key not in before and key not in after:
            continue
        if before and old == new:
            continue
        if not before and new in (None, "", [], {}, False):
            continue
        rows.append(
            {
                "label": str(DEFINITION_LABELS.get(key, key)),
                "old": _definition_value(key, old) if before else "",
                "new": _definition_value(key, new),
            }
        )
    return rows
