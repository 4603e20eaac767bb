"""Presentation helpers for the stock screens (no database access here)."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats
from django.utils.translation import gettext as _

from accounts.permissions import may
from core import display
from core.words import is_yes

register = template.Library()

GRAM = Decimal("0.001")


@register.filter
def kg(value):
    """A weight in kilograms with its three decimals (grams) and the unit."""
    return display.weight(value)


@register.filter
def dash(value):
    """An empty value shown as a dash, so a blank cell never looks like an error."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    return value


@register.filter
def label_of(obj):
    """The label of a category, type or custom field in the user's language."""
    if obj is None:
        return "—"
    label = getattr(obj, "label", None)
    return label() if callable(label) else str(obj)


@register.filter
def custom_value(definition, value):
    """A stored custom value, shown the way the definition describes it."""
    if value is None or value == "" or value == []:
        return "—"
    kind = getattr(definition, "field_type", "text")
    if kind == "boolean":
        return _("Yes") if is_yes(value) else _("No")
    if kind in ("choice", "multi_choice"):
        labels = {c.get("value"): _choice_label(c) for c in (definition.choices or [])}
        values = value if isinstance(value, list) else [value]
        return ", ".join(str(labels.get(v, v)) for v in values)
    if kind == "decimal":
        try:
            value = formats.number_format(Decimal(str(value)), use_l10n=True)
        except (InvalidOperation, ValueError):
            pass
    if kind == "date":
        from django.utils.dateparse import parse_date

        parsed = parse_date(str(value)) if isinstance(value, str) else value
        if parsed:
            value = display.day(parsed)
    unit = getattr(definition, "unit", "")
    return f"{value} {unit}".strip() if unit else value


def _choice_label(choice: dict) -> str:
    from stock.models import localized_label

    return localized_label(choice.get("labels") or {}, None, fallback=choice.get("value", ""))


@register.simple_tag(takes_context=True)
def has_perm(context, perm):
    return may(context.get("user"), perm)


@register.filter
def diff_rows(data, other):
    """The (key, value) pairs of ``data`` that differ from ``other`` (all of them
    when there is nothing to compare with)."""
    other = other or {}
    return [(k, v) for k, v in (data or {}).items() if not other or other.get(k) != v]


@register.filter
def as_text(value):
    """A JSON value (old or new value of a change) in plain words."""
    if value is None or value == "":
        return "—"
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if isinstance(value, list):
        return ", ".join(str(as_text(v)) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {as_text(v)}" for k, v in value.items()) or "—"
    return value


@register.simple_tag
def items_url(**filters):
    """The item list with these filters, e.g. {% items_url status="in_stock" site=1 %}."""
    from urllib.parse import urlencode

    from django.urls import reverse

    query = urlencode({k: v for k, v in filters.items() if v not in (None, "")})
    return reverse("stock:item_list") + (f"?{query}" if query else "")


@register.filter
def is_single_checkbox(bound_field) -> bool:
    """A lone tick box (its label goes beside it), not a list of tick boxes."""
    from django.forms import CheckboxInput

    return isinstance(bound_field.field.widget, CheckboxInput)
