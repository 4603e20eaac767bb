"""Stock register reads (country schema). Every read of items, photos or
totals goes through stock.scope, the one place that knows the site scope.

Filters of item_list / archive_list (all optional; values as a form or a
query string gives them, ids or objects):
  site, category, item_type, status, source, legal_status,
  received_from, received_to (dates, inclusive), q.
archive_list also takes reason, archived_from, archived_to.
``q`` matches the start of the SMS number, the CITES mark (case and extra
blanks ignored) or the case reference — prefix searches that the
upper(...) text_pattern_ops indexes answer without scanning.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.dateparse import parse_date

from accounts.permissions import may

from . import marks
from .custom_fields import definitions_for_type
from .models import (
    ArchiveRecord,
    CustomFieldDefinition,
    ItemCategory,
    ItemPhoto,
    ItemType,
    Site,
    StockItem,
    StockTotal,
)
from .scope import restrict_to_scope, visible_sites

Status = StockItem.Status


def _pk(value):
    return getattr(value, "pk", value)


def _date(value):
    if isinstance(value, datetime.date):
        return value
    return parse_date(str(value)) if value else None


def _search(queryset: QuerySet, q: str) -> QuerySet:
    q = marks.normalise_mark(q)
    if not q:
        return queryset
    return queryset.filter(
        Q(sms_number__istartswith=q)
        | Q(cites_mark__istartswith=q)
        | Q(case_reference__istartswith=q)
    )


def _common_filters(queryset: QuerySet, filters: dict) -> QuerySet:
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "", [], ())}
    if "site" in filters:
        queryset = queryset.filter(site_id=_pk(filters["site"]))
    if "category" in filters:
        queryset = queryset.filter(item_type__category_id=_pk(filters["category"]))
    if "item_type" in filters:
        queryset = queryset.filter(item_type_id=_pk(filters["item_type"]))
    if "source" in filters:
        queryset = queryset.filter(source=filters["source"])
    if "legal_status" in filters:
        queryset = queryset.filter(legal_status=filters["legal_status"])
    if received_from := _date(filters.get("received_from")):
        queryset = queryset.filter(received_on__gte=received_from)
    if received_to := _date(filters.get("received_to")):
        queryset = queryset.filter(received_on__lte=received_to)
    if "q" in filters:
        queryset = _search(queryset, str(filters["q"]))
    return queryset


def item_list(*, user, filters: dict | None = None) -> QuerySet:
    """Items the user may see; archived ones only when status=archived."""
    filters = filters or {}
    queryset = restrict_to_scope(StockItem.objects.all(), user)
    status = filters.get("status")
    if status:
        queryset = queryset.filter(status=status)
    else:
        queryset = queryset.exclude(status=Status.ARCHIVED)
    queryset = _common_filters(queryset, filters)
    return queryset.select_related("site", "item_type__category").order_by(
        "-received_on", "-sms_number"
    )


def archive_list(*, user, filters: dict | None = None) -> QuerySet:
    """Archive records of items the user may see, newest first."""
    filters = filters or {}
    items = _common_filters(
        restrict_to_scope(StockItem.objects.filter(status=Status.ARCHIVED), user), filters
    )
    queryset = ArchiveRecord.objects.filter(item__in=items)
    if filters.get("reason"):
        queryset = queryset.filter(reason=filters["reason"])
    if archived_from := _date(filters.get("archived_from")):
        queryset = queryset.filter(archived_on__gte=archived_from)
    if archived_to := _date(filters.get("archived_to")):
        queryset = queryset.filter(archived_on__lte=archived_to)
    return queryset.select_related(
        "item__site", "item__item_type__category", "archived_by"
    ).order_by("-archived_on", "-archived_at")


def item_get(*, user, item_id) -> StockItem:
    """One item the user may see (archived included), else Http404."""
    queryset = restrict_to_scope(StockItem.objects.all(), user).select_related(
        "site", "item_type__category", "created_by"
    )
    try:
        return queryset.prefetch_related(
            Prefetch("photos", queryset=ItemPhoto.objects.select_related("uploaded_by"))
        ).get(pk=item_id)
    except (StockItem.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        # A malformed UUID is just "not found".
        raise Http404 from exc


def item_history(*, item: StockItem) -> list[dict]:
    """What happened to the item, oldest first: registration, photos added
    later, corrections (one entry per field), archive.

    Each entry: {"kind": "registered"|"photo"|"change"|"archived", "at", "by",
    and "field", "old", "new", "reason" for changes, "record" for archive,
    "photo" for photos}. The caller got ``item`` through item_get (scope).
    """
    events = [{"kind": "registered", "at": item.created_at, "by": item.created_by}]
    for photo in item.photos.select_related("uploaded_by"):
        # Photos sent with the registration are part of it.
        if (photo.uploaded_at - item.created_at).total_seconds() > 5:
            events.append(
                {"kind": "photo", "at": photo.uploaded_at, "by": photo.uploaded_by, "photo": photo}
            )
    for change in item.changes.select_related("changed_by"):
        events.append(
            {
                "kind": "change",
                "at": change.changed_at,
                "by": change.changed_by,
                "field": change.field,
                "old": change.old_value,
                "new": change.new_value,
                "reason": change.reason,
            }
        )
    record = ArchiveRecord.objects.filter(item=item).select_related("archived_by").first()
    if record is not None:
        events.append(
            {
                "kind": "archived",
                "at": record.archived_at,
                "by": record.archived_by,
                "record": record,
            }
        )
    return sorted(events, key=lambda e: e["at"])


def _zero() -> dict:
    return {"items": 0, "pieces": 0, "weight_kg": Decimal("0.000")}


def _add(bucket: dict, row: tuple) -> None:
    _site, _type, _status, items, pieces, weight_kg = row
    bucket["items"] += items
    bucket["pieces"] += pieces
    bucket["weight_kg"] += weight_kg


def dashboard_totals(*, user) -> dict:
    """Totals for the dashboard, from StockTotal only (never the item table).

    {"overall": {items, pieces, weight_kg},           # in stock
     "per_site": [{"site": Site, items, pieces, weight_kg}],       # in stock
     "per_category": [{"category": ItemCategory, ...}],            # in stock
     "per_type": [{"item_type": ItemType, "category": ..., ...}],  # in stock
     "in_transit": {...}, "missing": {...}}
    Only sites in the user's scope, and only non-zero rows.
    """
    # Plain tuples, and the few sites and types fetched once: a country with
    # 50 stores has thousands of total rows, and a model instance (with its
    # site, type and category) per row cost more than the rest of the page.
    rows = list(
        restrict_to_scope(
            StockTotal.objects.filter(
                status__in=[Status.IN_STOCK, Status.IN_TRANSIT, Status.MISSING], items__gt=0
            ),
            user,
        ).values_list("site_id", "item_type_id", "status", "items", "pieces", "weight_kg")
    )
    sites = Site.objects.in_bulk({row[0] for row in rows})
    types = ItemType.objects.select_related("category").in_bulk({row[1] for row in rows})
    result = {"overall": _zero(), "in_transit": _zero(), "missing": _zero()}
    per_site: dict[int, dict] = {}
    per_category: dict[int, dict] = {}
    per_type: dict[int, dict] = {}
    for row in rows:
        site_id, type_id, status = row[:3]
        if status == Status.IN_TRANSIT:
            _add(result["in_transit"], row)
            continue
        if status == Status.MISSING:
            _add(result["missing"], row)
            continue
        _add(result["overall"], row)
        item_type = types[type_id]
        category = item_type.category
        _add(per_site.setdefault(site_id, {"site": sites[site_id], **_zero()}), row)
        _add(per_category.setdefault(category.pk, {"category": category, **_zero()}), row)
        _add(
            per_type.setdefault(type_id, {"item_type": item_type, "category": category, **_zero()}),
            row,
        )
    result["per_site"] = sorted(per_site.values(), key=lambda r: r["site"].name)
    result["per_category"] = sorted(
        per_category.values(), key=lambda r: (r["category"].order, r["category"].code)
    )
    result["per_type"] = sorted(
        per_type.values(),
        key=lambda r: (r["category"].order, r["item_type"].order, r["item_type"].code),
    )
    return result


def photo_get(*, user, photo_id) -> ItemPhoto:
    """A photo of an item the user may see, else Http404."""
    queryset = restrict_to_scope(
        ItemPhoto.objects.select_related("item"), user, site_field="item__site"
    )
    try:
        return queryset.get(pk=photo_id)
    except (ItemPhoto.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404 from exc


def custom_fields_for_type(*, item_type: ItemType) -> list[CustomFieldDefinition]:
    """Active definitions that apply to ``item_type``, in display order."""
    return definitions_for_type(item_type)


# Definitions are country-wide configuration, not tied to a site: no scope applies.


def custom_fields_of_item(*, item: StockItem) -> list[CustomFieldDefinition]:
    """The active fields of the item's type, then any other field (deactivated
    or no longer applying) the item still has a value for. The caller got
    ``item`` through item_get (scope)."""
    active = custom_fields_for_type(item_type=item.item_type)
    keys = {d.key for d in active}
    extra = [k for k in (item.custom_values or {}) if k not in keys]
    others = list(CustomFieldDefinition.objects.filter(key__in=extra)) if extra else []
    return [*active, *others]


def custom_field_list() -> QuerySet:
    """Every definition, active ones first, for the administrators' list."""
    return CustomFieldDefinition.objects.prefetch_related("applies_to").order_by(
        "-active", "order", "key"
    )


def custom_field_get(*, definition_id) -> CustomFieldDefinition:
    try:
        return CustomFieldDefinition.objects.get(pk=definition_id)
    except (CustomFieldDefinition.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def custom_field_changes(*, definition: CustomFieldDefinition) -> QuerySet:
    """The logged changes of one definition, newest first."""
    return definition.changes.select_related("changed_by").order_by("-changed_at")


def sites_for_registration(*, user) -> QuerySet:
    """Active sites where ``user`` may register items (for the form's choices)."""
    if not may(user, "stock.register_item"):
        return Site.objects.none()
    return visible_sites(user).filter(active=True)


def item_types_enabled() -> QuerySet:
    """Types that may be registered now (enabled, in an enabled category), for choices."""
    return ItemType.objects.filter(enabled=True, category__enabled=True).select_related("category")


def categories_with_types() -> list[ItemCategory]:
    return list(
        ItemCategory.objects.filter(enabled=True).prefetch_related(
            Prefetch("types", queryset=ItemType.objects.filter(enabled=True))
        )
    )
