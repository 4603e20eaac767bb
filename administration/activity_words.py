"""The access log in words: what each row's details say, as a sentence, with
links to what was seen.

A list's row records its filters by their query-string names and ids
(``{"q": "KE", "site": 3, "after": "2026-06-24~XD-2026-000244"}``); the
activity page says "Search “KE” · store: North store · the page after
XD-2026-000244" and links to that list with those filters. An object's row
links to the object (item, transfer, stock-take, person).
"""

from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.access import AccessAction
from stock import wording
from stock.listing import SORTS
from stock.models import ArchiveRecord, ItemCategory, ItemType, StockItem

from . import selectors

A = AccessAction

# The list each action shows: its URL name (the details are its query string).
LIST_OF_ACTION = {
    A.ITEM_LIST: "stock:item_list",
    A.ARCHIVE_LIST: "stock:archive_list",
    A.TRANSFER_LIST: "custody:transfer_list",
    A.DISCREPANCY_LIST: "custody:discrepancy_list",
    A.STOCKTAKE_LIST: "custody:stocktake_list",
    A.ACTIVITY_VIEW: "administration:activity",
    A.CHANGES_VIEW: "administration:changes",
}
# The page of each kind of object.
OBJECT_PAGES = {
    "stock.stockitem": ("stock:item_detail", "item_id"),
    "custody.transfer": ("custody:transfer_detail", "transfer_id"),
    "custody.stocktake": ("custody:stocktake_detail", "stocktake_id"),
    "accounts.user": ("administration:user_detail", "user_id"),
}
CURSORS = ("after", "before")

NAMES = {
    "q": gettext_lazy("search"),
    "site": gettext_lazy("store"),
    "category": gettext_lazy("category"),
    "item_type": gettext_lazy("type"),
    "status": gettext_lazy("status"),
    "source": gettext_lazy("source"),
    "legal_status": gettext_lazy("legal status"),
    "received_from": gettext_lazy("received from"),
    "received_to": gettext_lazy("received until"),
    "archived_from": gettext_lazy("archived from"),
    "archived_to": gettext_lazy("archived until"),
    "reason": gettext_lazy("reason"),
    "user": gettext_lazy("person"),
    "date_from": gettext_lazy("from"),
    "date_to": gettext_lazy("until"),
    "item": gettext_lazy("item"),
    "field": gettext_lazy("field"),
    "action": gettext_lazy("action"),
    "sort": gettext_lazy("sorted by"),
    "format": gettext_lazy("format"),
    "list": gettext_lazy("list"),
}
_CHOICES = {
    "status": dict(StockItem.Status.choices),
    "source": dict(StockItem.Source.choices),
    "legal_status": dict(StockItem.LegalStatus.choices),
    "reason": dict(ArchiveRecord.Reason.choices),
    "action": dict(AccessAction.choices),
    "sort": {key: label for key, (label, _order) in SORTS.items()},
    "list": {"items": gettext_lazy("items")},
}


class _Names:
    """Ids named once per page (stores, types, categories, people)."""

    def __init__(self):
        self._cache = {}

    def _table(self, kind):
        if kind not in self._cache:
            if kind == "site":
                self._cache[kind] = selectors.site_names()
            elif kind == "item_type":
                self._cache[kind] = {t.pk: t.label() for t in ItemType.objects.all()}
            elif kind == "category":
                self._cache[kind] = {c.pk: c.label() for c in ItemCategory.objects.all()}
            elif kind == "user":
                self._cache[kind] = {}
        return self._cache[kind]

    def name(self, kind, value) -> str:
        if kind == "user":
            table = self._table(kind)
            if value not in table:
                person = get_user_model().objects.filter(pk=value).first()
                table[value] = person.display_name if person else str(value)
            return table[value]
        try:
            return self._table(kind).get(int(value), str(value))
        except (TypeError, ValueError):
            return str(value)


def _value(key: str, value, names: _Names) -> str:
    if isinstance(value, list):
        return ", ".join(_value(key, v, names) for v in value)
    if key in ("site", "item_type", "category", "user"):
        return names.name(key, value)
    if key in _CHOICES:
        return str(_CHOICES[key].get(value, value))
    if key == "field":
        return wording.item_field_label(str(value))
    if key.endswith(("_from", "_to")):
        return wording.value_text("received_on", value)
    return wording.plain(value)


def _cursor_text(key: str, value) -> str:
    # A cursor is the sort keys of a row joined by "~": the last one (an SMS
    # number, an id) says which row.
    row = str(value).split("~")[-1]
    if key == "after":
        return _("the page after %(row)s") % {"row": row}
    return _("the page before %(row)s") % {"row": row}


def sentence(details: dict, names: _Names) -> str:
    """The details in words: "search “KE” · store: North store · the page after …"."""
    parts = []
    # The search first, then the filters in the list's order, the page last
    # (a JSON column keeps its own order of keys).
    order = {key: index for index, key in enumerate(NAMES)}
    keys = sorted(details or {}, key=lambda k: (k in CURSORS, order.get(k, len(order)), k))
    for key in keys:
        value = details[key]
        if value in (None, "", [], {}):
            continue
        if key in CURSORS:
            parts.append(_cursor_text(key, value))
        elif key == "q":
            parts.append(_("search “%(text)s”") % {"text": value})
        else:
            label = NAMES.get(key) or key.replace("_", " ")
            parts.append(
                _("%(name)s: %(value)s") % {"name": label, "value": _value(key, value, names)}
            )
    return " · ".join(parts)


def _list_url(action: str, details: dict) -> str:
    name = LIST_OF_ACTION.get(action)
    if name is None and action == A.EXPORT and (details or {}).get("list") == "items":
        name = "stock:item_list"
    if name is None:
        return ""
    query = {
        k: v
        for k, v in (details or {}).items()
        if k not in ("list", "format") and not isinstance(v, dict | list)
    }
    return reverse(name) + (f"?{urlencode(query)}" if query else "")


def _object_url(event) -> str:
    page = OBJECT_PAGES.get(event.object_type or "")
    if not page or not event.object_id:
        return ""
    name, argument = page
    try:
        return reverse(name, kwargs={argument: event.object_id})
    except NoReverseMatch:
        return ""


def describe(events) -> list:
    """The events, each with ``sentence`` (its details in words), ``seen_url``
    (the list it showed, with its filters) and ``object_url``."""
    names = _Names()
    events = list(events)
    for event in events:
        event.sentence = sentence(event.details, names)
        event.seen_url = _list_url(event.action, event.details)
        event.object_url = _object_url(event)
    return events
