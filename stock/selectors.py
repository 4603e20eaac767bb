"""Stock register reads (country schema). Every read of items, photos or
totals goes through stock.scope, the one place that knows the site scope.

The item list and the archive: the scope first, then their FilterSet
(stock.filters), which says which filters there are and what they accept.
"""

import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case, CharField, F, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Greatest
from django.http import Http404

from accounts.permissions import may

from . import catalogue
from .custom_fields import definitions_for_type
from .filters import ArchiveFilterSet, ItemFilterSet
from .marks import MIN_LENGTH_CM, MIN_WEIGHT_KG
from .models import (
    WHOLE_CITES_CLASSES,
    ArchiveRecord,
    CitesClass,
    CustomFieldDefinition,
    ItemCategory,
    ItemPhoto,
    ItemType,
    Site,
    StockItem,
)
from .scope import (
    restrict_to_readable,
    restrict_to_scope,
    scope_sql,
    sent_by_scope,
    visible_site_ids,
    visible_sites,
)

Status = StockItem.Status

# Newest first; the last key is unique, so the lists page by keyset (core.paging).
ITEM_ORDER = ("-received_on", "-sms_number")
ARCHIVE_ORDER = ("-archived_on", "-archived_at", "-id")


def item_filter(*, user, data=None) -> ItemFilterSet:
    """The item list's filters bound to ``data`` (a query string or a dict of
    values), over the items the user may see: ``.qs`` the rows, newest first;
    ``.form`` the filter form to show. Archived items only with status=archived."""
    queryset = restrict_to_scope(StockItem.objects.all(), user)
    return ItemFilterSet(
        data if data is not None else {},
        queryset=queryset.select_related("site", "item_type__category").order_by(*ITEM_ORDER),
        user=user,
    )


def item_list(*, user, filters=None) -> QuerySet:
    """Items the user may see that pass ``filters``, newest first."""
    return item_filter(user=user, data=filters).qs


def archive_filter(*, user, data=None) -> ArchiveFilterSet:
    """The archive's filters bound to ``data``, over the archive records of
    items the user may see, newest first."""
    queryset = restrict_to_scope(
        ArchiveRecord.objects.filter(item__status=Status.ARCHIVED), user, site_field="item__site"
    )
    return ArchiveFilterSet(
        data if data is not None else {},
        queryset=queryset.select_related(
            "item__site", "item__item_type__category", "archived_by"
        ).order_by(*ARCHIVE_ORDER),
        user=user,
    )


def archive_list(*, user, filters=None) -> QuerySet:
    """Archive records of items the user may see that pass ``filters``, newest first."""
    return archive_filter(user=user, data=filters).qs


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


def item_read(*, user, item_id) -> tuple[StockItem, bool]:
    """One item the user may read, and whether it is read-only to them because
    it is no longer theirs: an item in their scope, or one a store of their
    scope sent away (stock.scope.restrict_to_readable), else Http404. Writes
    use ``item_get``, which only knows the scope."""
    queryset = restrict_to_readable(StockItem.objects.all(), user).select_related(
        "site", "item_type__category", "created_by"
    )
    try:
        item = queryset.prefetch_related(
            Prefetch("photos", queryset=ItemPhoto.objects.select_related("uploaded_by"))
        ).get(pk=item_id)
    except (StockItem.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404 from exc
    return item, sent_by_scope(user, item)


def readable_item_ids(*, user, item_ids) -> set:
    """Which of ``item_ids`` the user may open (``item_read``): the lines of a
    transfer, discrepancy or stock-take link only to those."""
    ids = [i for i in item_ids if i is not None]
    if not ids:
        return set()
    return set(
        restrict_to_readable(StockItem.objects.filter(pk__in=ids), user).values_list(
            "pk", flat=True
        )
    )


def item_history(*, item: StockItem) -> list[dict]:
    """What happened to the item, oldest first: registration, photos added
    later, corrections (one entry per field), archive.

    Each entry: {"kind": "registered"|"photo"|"change"|"archived", "at", "by",
    and "field", "old", "new", "reason" for changes, "record" for archive,
    "photo" for photos}. The caller got ``item`` through item_get (scope).
    """
    events = [{"kind": "registered", "at": item.created_at, "by": item.created_by}]
    # .all(): the photos item_get prefetched (with who uploaded them), not a second read.
    for photo in item.photos.all():
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


# One statement, the sums done by PostgreSQL: per status (the cards), per
# store and per type in stock (the tables). ~3 + stores + types rows,
# whatever the number of items: StockTotal has a row per store, type and
# status.
_DASHBOARD_SQL = (
    "SELECT GROUPING(t.site_id, t.item_type_id), t.status, t.site_id, t.item_type_id,"
    " sum(t.items), sum(t.pieces), sum(t.weight_kg)"
    " FROM stock_stocktotal t"
    " WHERE t.status = ANY(%s) AND t.items > 0{scope}"
    " GROUP BY GROUPING SETS ((t.status), (t.status, t.site_id), (t.status, t.item_type_id))"
)


def dashboard_totals(*, user) -> dict:
    """Totals for the dashboard, from StockTotal only (never the item table).

    {"overall": {items, pieces, weight_kg},           # in stock
     "per_site": [{"site": Site, items, pieces, weight_kg}],       # in stock
     "per_category": [{"category": ItemCategory, ...}],            # in stock
     "per_type": [{"item_type": ItemType, "category": ..., ...}],  # in stock
     "in_transit": {...}, "missing": {...}}
    Only sites in the user's scope. "per_site" lists every active store in
    the scope, with zeros when it holds nothing (a store whose whole stock
    was recorded missing must not vanish from the table); the other lists
    only non-zero rows.

    One SQL statement (GROUPING SETS) sums them; stores and types come from
    stock.catalogue (cached), the scope from stock.scope as literal ids.
    """
    visible = visible_site_ids(user)
    scope, scope_params = scope_sql(user, "t.site_id")
    params: list = [[Status.IN_STOCK, Status.IN_TRANSIT, Status.MISSING], *scope_params]
    with connection.cursor() as cursor:
        cursor.execute(_DASHBOARD_SQL.format(scope=scope), params)
        rows = cursor.fetchall()
    known = catalogue.load()
    sites = known.sites
    types = known.types
    result = {"overall": _zero(), "in_transit": _zero(), "missing": _zero()}
    per_site: dict[int, dict] = {
        pk: {"site": site, **_zero()}
        for pk, site in sites.items()
        if site.active and (visible is None or pk in visible)
    }
    per_category: dict[int, dict] = {}
    per_type: dict[int, dict] = {}
    for grouping, status, site_id, type_id, items, pieces, weight_kg in rows:
        sums = {"items": int(items), "pieces": int(pieces), "weight_kg": weight_kg}
        if grouping == 3:  # per status
            key = {Status.IN_STOCK: "overall", Status.IN_TRANSIT: "in_transit"}.get(
                status, "missing"
            )
            result[key] = sums
            continue
        if status != Status.IN_STOCK:
            continue
        if grouping == 1:  # per store
            site = sites.get(site_id) or Site.objects.get(pk=site_id)
            per_site[site_id] = {"site": site, **sums}
            continue
        item_type = types.get(type_id) or ItemType.objects.select_related("category").get(
            pk=type_id
        )
        category = item_type.category
        per_type[type_id] = {"item_type": item_type, "category": category, **sums}
        bucket = per_category.setdefault(category.pk, {"category": category, **_zero()})
        for name, value in sums.items():
            bucket[name] += value
    result["per_site"] = sorted(per_site.values(), key=lambda r: (r["site"].name, r["site"].pk))
    result["per_category"] = sorted(
        per_category.values(), key=lambda r: (r["category"].order, r["category"].code)
    )
    result["per_type"] = sorted(
        per_type.values(),
        key=lambda r: (r["category"].order, r["item_type"].order, r["item_type"].code),
    )
    return result


# The most labels one PDF holds: a few sheets' worth of a store, and a
# request that renders in a few seconds.
LABELS_LIMIT = 600


def _uuids(values) -> list[uuid.UUID]:
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(str(value)))
        except (TypeError, ValueError):
            continue  # a malformed id names no item
    return ids


def label_items(*, user, item_ids) -> list[StockItem]:
    """The items among ``item_ids`` the user may see, by SMS number (the
    others are left out: nothing says whether they exist). At most
    LABELS_LIMIT + 1, so a caller can tell there were too many."""
    queryset = restrict_to_scope(StockItem.objects.filter(pk__in=_uuids(item_ids)), user)
    return list(
        queryset.select_related("site", "item_type__category").order_by("sms_number")[
            : LABELS_LIMIT + 1
        ]
    )


def photo_get(*, user, photo_id) -> ItemPhoto:
    """A photo of an item the user may see, else Http404."""
    # The photos of the items the user may read (an item their store sent away too).
    queryset = restrict_to_readable(
        ItemPhoto.objects.select_related("item"), user, item_field="item"
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


# --- Marks to do ---------------------------------------------------------------------

MARKS_TO_DO_LIMIT = 1000


def marks_to_do(*, user) -> QuerySet:
    """Items in stock (not archived) in the user's scope that need a CITES
    mark, their length to decide it, or their mark checked, each annotated
    with ``todo``: a MarkFlag, "needs_mark" or "needs_length": the rule of stock.marks
    written as one query."""
    ivory_rule = Q(item_type__marking="cites_ivory")
    whole = Q(item_type__cites_class__in=list(WHOLE_CITES_CLASSES)) | Q(
        item_type__cites_class=""
    ) & (Q(item_type__whole=True) | Q(item_type__code__contains="whole"))
    cut = ivory_rule & ~whole & ~Q(item_type__cites_class=CitesClass.IVORY_WORKED)
    heavy = Q(weight_kg__gte=MIN_WEIGHT_KG)
    no_length = Q(length_outer_cm__isnull=True, length_cm__isnull=True)
    unmarked = Q(cites_mark__isnull=True)
    needs_mark = unmarked & (
        Q(item_type__marking="always")
        | (ivory_rule & whole)
        | (cut & heavy & Q(longest__gte=MIN_LENGTH_CM))
    )
    needs_length = unmarked & cut & heavy & no_length
    items = (
        StockItem.objects.exclude(status=StockItem.Status.ARCHIVED)
        .annotate(longest=Greatest(F("length_outer_cm"), F("length_cm")))
        .filter(needs_mark | needs_length | ~Q(mark_flag=""))
        .annotate(
            todo=Case(
                When(~Q(mark_flag=""), then=F("mark_flag")),
                When(needs_length, then=Value("needs_length")),
                default=Value("needs_mark"),
                output_field=CharField(),
            )
        )
        .select_related("site", "item_type")
        .order_by("site__name", "sms_number")
    )
    return restrict_to_scope(items, user)
