"""Presentation helpers for the stock screens (no database access here)."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from accounts.permissions import may
from core import display, markup
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


# The item list's rows (stock/item_list.html): one format per row instead of
# some twenty template nodes each — the rows were most of the page's CPU.
# Each value comes prepared by stock.views.list_rows; format_html escapes it.
_ITEM_ROW = (
    "    <tr>\n"
    '      <td class="tick no-print"><input type="checkbox" name="item" value="{}"'
    ' form="labels-form" aria-label="{}"></td>\n'
    '      <td class="thumb">{}</td>\n'
    '      <td class="nowrap card-title" data-label="{number}"><a href="{}">{}</a></td>\n'
    '      <td class="nowrap" data-label="{mark}">{}</td>\n'
    '      <td data-label="{kind}">{}</td>\n'
    '      <td data-label="{store}">{}</td>\n'
    '      <td class="num nowrap" data-label="{weight}">{}{}</td>\n'
    '      <td class="num" data-label="{pieces}">{}</td>\n'
    '      <td class="nowrap" data-label="{status}"><span class="badge badge-{}">{}</span></td>\n'
    '      <td class="nowrap" data-label="{received}">{}</td>\n'
    "    </tr>\n"
)
_THUMB = (
    '<a href="{}" tabindex="-1" aria-hidden="true"><img src="{}" alt=""'
    ' loading="lazy" width="48" height="48"></a>'
)
_PROVISIONAL = ' <span class="hint" title="{}">({})</span>'


def _row_pattern() -> str:
    """_ITEM_ROW with each column's name (the card layout's labels)
    translated and escaped once for the page; the row's own values are
    left as ``{}``."""
    names = {
        "number": _("SMS number"),
        "mark": _("CITES mark"),
        "kind": _("Type"),
        "store": _("Store"),
        "weight": _("Weight"),
        "pieces": _("Pieces"),
        "status": _("Status"),
        "received": _("Received on"),
    }
    return _ITEM_ROW.replace("{}", "{{}}").format(
        **{
            key: markup.escape(name).replace("{", "{{").replace("}", "}}")
            for key, name in names.items()
        }
    )


@register.simple_tag
def item_rows(items):
    """The item list's table rows: the columns' names translated once for
    the page, each row's values escaped (core.markup) into one pattern."""
    pattern = _row_pattern()
    provisional = markup.format_html(_PROVISIONAL, _("provisional weight"), _("provisional"))
    escape = markup.escape
    return mark_safe(  # noqa: S308 - every value escaped, the pattern's names too
        "".join(
            pattern.format(
                escape(item.pk),
                escape(item.tick_label),
                markup.format_html(_THUMB, item.url, item.thumbnail_url)
                if item.thumbnail_id
                else "",
                escape(item.url),
                escape(item.sms_number),
                escape(dash(item.cites_mark)),
                escape(item.type_label),
                escape(item.site.name),
                escape(item.weight_shown),
                "" if item.weight_is_final else provisional,
                escape(item.pieces_shown),
                escape(item.status),
                escape(item.status_label),
                escape(item.received_shown),
            )
            for item in items
        )
    )


# The dashboard's tables (stock/dashboard.html): one format per row, as the
# item list's, on the links and weights stock.views._dashboard_links
# prepares; the whitespace is the loops' it replaces.
_SITE_ROW = (
    '\n      <tr><td><a href="{0}">{1}</a></td>\n'
    '        <td class="num"><a href="{0}">{2}</a></td><td class="num"><a href="{0}">{3}</a></td>'
    '<td class="num"><a href="{0}">{4}</a></td></tr>\n    '
)
_CATEGORY_ROW = (
    '\n      <tr class="subtotal"><th><a href="{0}">{1}</a></th><th>{5}</th>\n'
    '        <th class="num"><a href="{0}">{2}</a></th><th class="num wide-only"><a href="{0}">{3}</a></th>'
    '<th class="num"><a href="{0}">{4}</a></th></tr>\n      {6}\n    '
)
_TYPE_ROW = (
    '\n      <tr><td></td><td><a href="{0}">{1}</a></td>\n'
    '        <td class="num"><a href="{0}">{2}</a></td><td class="num wide-only"><a href="{0}">{3}</a></td>'
    '<td class="num"><a href="{0}">{4}</a></td></tr>\n      '
)


def _figures(row, name) -> list[str]:
    escape = markup.escape
    return [
        escape(row["href"]),
        escape(name),
        escape(display.count(row["items"])),
        escape(display.count(row["pieces"])),
        escape(row["weight"]),
    ]


@register.simple_tag
def dashboard_site_rows(rows):
    """The dashboard's "By store" rows: store, items, pieces, weight, each a link."""
    return mark_safe(  # noqa: S308 - every value escaped
        "".join(_SITE_ROW.format(*_figures(row, row["site"].name)) for row in rows)
    )


@register.simple_tag
def dashboard_type_rows(categories):
    """The dashboard's "By category and type" rows: each category's subtotal,
    then its types."""
    all_types = markup.escape(_("All types"))
    return mark_safe(  # noqa: S308 - every value escaped
        "".join(
            _CATEGORY_ROW.format(
                *_figures(category, category["label"]),
                all_types,
                "".join(
                    _TYPE_ROW.format(*_figures(row, row["label"])) for row in category["types"]
                ),
            )
            for category in categories
        )
    )
