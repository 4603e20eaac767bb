"""Reading the access log (country schema on a country host), and a staff
member's support grants (public schema, on the public host).

Site scope: an administrator who sees every site sees every event; one scoped
to some sites sees the events tied to those sites, plus the events tied to no
site (sign-ins, administration). The scope itself comes from stock.scope.
"""

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from stock.scope import restrict_to_scope

from .models import AccessEvent, SupportGrantSummary

# Events found by an item's SMS number: the item, its photos, its discrepancies.
ITEM_TYPES = ("stock.stockitem", "stock.itemphoto", "custody.discrepancy")


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def access_event_list(*, user, filters: dict | None = None) -> QuerySet:
    """Newest first. ``filters``: user (a User or id), date_from, date_to
    (dates, both included), site (a Site or id), item (an SMS number), action."""
    filters = filters or {}
    # Lines tied to no site (e.g. a sign-in) are not site data: the scope keeps them.
    queryset = restrict_to_scope(
        AccessEvent.objects.select_related("user"), user, site_field="site_id", or_no_site=True
    )
    if filters.get("user"):
        queryset = queryset.filter(user=getattr(filters["user"], "pk", filters["user"]))
    if filters.get("date_from"):
        queryset = queryset.filter(at__gte=_day_start(filters["date_from"]))
    if filters.get("date_to"):
        next_day = filters["date_to"] + datetime.timedelta(days=1)
        queryset = queryset.filter(at__lt=_day_start(next_day))
    if filters.get("site"):
        queryset = queryset.filter(site_id=getattr(filters["site"], "pk", filters["site"]))
    if filters.get("item"):
        number = filters["item"].strip()
        queryset = queryset.filter(object_type__in=ITEM_TYPES, object_repr__iexact=number)
    if filters.get("action"):
        queryset = queryset.filter(action=filters["action"])
    return queryset.order_by("-id")


def access_event_page(queryset: QuerySet, *, before_id: int | None, size: int):
    """(rows, next cursor or None): keyset paging on the id, so no COUNT and
    no OFFSET however long the log grows."""
    if before_id:
        queryset = queryset.filter(id__lt=before_id)
    rows = list(queryset[: size + 1])
    next_cursor = rows[size - 1].id if len(rows) > size else None
    return rows[:size], next_cursor


def support_grants_of_staff(*, user) -> QuerySet:
    """Public schema: the support grants a platform staff member holds (their
    summaries only, never a country's data)."""
    return SupportGrantSummary.objects.filter(staff_username=user.username)
