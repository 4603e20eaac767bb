"""Site scope: the one place that decides which sites a user may see.

Every selector that returns sites, items or anything tied to a site filters
through ``visible_sites`` or ``restrict_to_scope`` (reports through
``visible_site_ids`` / ``sees_sites``); nothing else reads ``User.all_sites``
or ``Site.scoped_users`` (but administration's user management, which sets
them).

A scoped user's site ids are read once (one query) and kept on the user
object — a request's ``request.user`` lives one request — and every filter
is written with them as literal ids (``site_id IN (3, 7)``), never as a
subquery on the scope table: the planner then sees the stores and picks the
(status, site, received) index of their items instead of walking the whole
country's (README, "Pages that cost what their data costs"). Any change of a
scope (the m2m table) makes every kept copy stale in this process; another
process's request loads its user again anyway.
"""

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save

from accounts import management_scope
from accounts.management_scope import Reach
from ledger.models import LedgerEntry

from .models import Site

# Bumped by any change of any user's scope in this process: a kept copy of
# site ids made before it is read again.
_generation = [0]
_KEPT = "_sms_scope_site_ids"


def _scope_changed(**_kwargs) -> None:
    _generation[0] += 1


_SCOPE_TABLE = Site.scoped_users.through
m2m_changed.connect(_scope_changed, sender=_SCOPE_TABLE, dispatch_uid="stock_scope_m2m")
post_save.connect(_scope_changed, sender=_SCOPE_TABLE, dispatch_uid="stock_scope_save")
post_delete.connect(_scope_changed, sender=_SCOPE_TABLE, dispatch_uid="stock_scope_delete")


def _scoped_ids(user) -> tuple[int, ...]:
    """The ids of the sites a scoped (not all-sites) user was given, sorted:
    one query per user object, schema and scope change."""
    stamp = (connection.schema_name, user.pk, _generation[0])
    # getattr/setattr, not __dict__: request.user is a lazy object around the user.
    kept = getattr(user, _KEPT, None)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    ids = tuple(
        sorted(_SCOPE_TABLE.objects.filter(user_id=user.pk).values_list("site_id", flat=True))
    )
    setattr(user, _KEPT, (stamp, ids))
    return ids


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def sees_all_sites(user) -> bool:
    """Every site of the country, and what belongs to none (in transit, a
    record naming no known store)."""
    return _active(user) and bool(user.all_sites)


def visible_sites(user) -> QuerySet:
    """The sites ``user`` may see in the current country."""
    if not _active(user):
        return Site.objects.none()
    if user.all_sites:
        return Site.objects.all()
    return Site.objects.filter(pk__in=_scoped_ids(user))


def visible_site_ids(user) -> frozenset | None:
    """The ids of ``visible_sites``; None for a user who sees every site."""
    if sees_all_sites(user):
        return None
    if not _active(user):
        return frozenset()
    return frozenset(_scoped_ids(user))


def sees_sites(user, site_ids) -> bool:
    """May ``user`` see everything tied to ``site_ids`` (None: the whole
    country, for users who see every site only)?"""
    if not _active(user):
        return False
    visible = visible_site_ids(user)
    if visible is None:
        return True
    return site_ids is not None and set(site_ids) <= visible


def restrict_to_scope(
    queryset: QuerySet,
    user,
    *,
    site_field: str | tuple[str, ...] = "site",
    or_no_site: bool = False,
) -> QuerySet:
    """Narrow ``queryset`` to rows whose ``site_field`` is in the user's scope.

    Several fields (a transfer's origin and destination): a row is visible
    when any of them is. ``or_no_site``: rows with no site at all (a log line
    of the whole country) stay visible too."""
    if not _active(user):
        return queryset.none()
    if user.all_sites:
        return queryset
    sites = list(_scoped_ids(user))
    fields = (site_field,) if isinstance(site_field, str) else site_field
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__in": sites})
    if or_no_site:
        for field in fields:
            condition |= Q(**{f"{field}__isnull": True})
    return queryset.filter(condition)


def scope_sql(user, column: str) -> tuple[str, list]:
    """The scope as a condition on ``column`` (a store id) for a statement
    written in SQL: (" AND column = ANY(%s)", [ids]) for a scoped user,
    ("", []) for a user who sees every site, and nothing at all for an
    inactive one."""
    if not _active(user):
        return " AND FALSE", []
    if user.all_sites:
        return "", []
    return f" AND {column} = ANY(%s)", [list(_scoped_ids(user))]


def restrict_to_readable(queryset: QuerySet, user, *, item_field: str = "") -> QuerySet:
    """Narrow ``queryset`` (items, or rows tied to an item through
    ``item_field``: a photo's ``"item"``) to what ``user`` may **read**: the
    items in their scope, and the items a store of their scope sent away by
    transfer, wherever those are now — a store manager can still open what
    they have just sent (read-only: every write asks ``restrict_to_scope``).

    "Sent" is read from the custody ledger: a ``dispatched`` entry written at
    one of the user's stores (the entry's site is the origin). An item that
    merely passed through another store, or that a store they never held
    sent, stays out of reach."""
    site_field = f"{item_field}__site" if item_field else "site"
    if not _active(user) or user.all_sites:
        return restrict_to_scope(queryset, user, site_field=site_field)
    sites = list(_scoped_ids(user))  # literal ids, as restrict_to_scope
    # EXISTS per row: one item's page looks up that item's entries (ledger
    # index on item), not every dispatch of the country.
    sent = LedgerEntry.objects.filter(
        item_id=OuterRef(f"{item_field}__pk" if item_field else "pk"),
        event=LedgerEntry.Event.DISPATCHED,
        site__in=sites,
    )
    return queryset.filter(Q(**{f"{site_field}__in": sites}) | Exists(sent))


def sent_by_scope(user, item) -> bool:
    """Whether ``item`` is outside the user's scope but was sent away by one of
    their stores (the page then shows it read-only, with where it is now)."""
    if not _active(user) or user.all_sites:
        return False
    sites = _scoped_ids(user)
    if item.site_id is not None and item.site_id in sites:
        return False
    return LedgerEntry.objects.filter(
        event=LedgerEntry.Event.DISPATCHED, item_id=item.pk, site__in=list(sites)
    ).exists()


def can_see_site(user, site) -> bool:
    remembered = getattr(user, _REMEMBERED, None)
    if remembered is not None:
        return _active(user) and (remembered is _EVERY_SITE or site.pk in remembered)
    # A user who sees every site sees this one: no query (a batch of
    # registrations, e.g. the register import, asks once per row).
    if sees_all_sites(user) and getattr(site, "pk", None) is not None:
        return True
    if _active(user) and not user.all_sites:
        return site.pk in _scoped_ids(user)
    return visible_sites(user).filter(pk=site.pk).exists()


_REMEMBERED = "_sms_visible_site_ids"
_EVERY_SITE = object()


def remember_scope(user) -> None:
    """Read ``user``'s sites once: ``can_see_site`` then answers for this
    user object without a query. For an object a batch job keeps for one run
    (the ODK sync), as Django keeps permissions on it: a change of scope made
    meanwhile applies from the next run."""
    visible = visible_site_ids(user)
    setattr(user, _REMEMBERED, _EVERY_SITE if visible is None else visible)


def reach_of(user) -> Reach:
    """What ``user`` holds — permissions and the sites they were given, whether
    or not the account is active — for the rule "scope is a ceiling"
    (accounts.management_scope): what an administrator hands out, and must
    hold to act on that person. ``visible_sites`` is what a user may see now."""
    if user.all_sites:
        site_ids = frozenset()
    else:
        # .all(), so a prefetch of scoped_sites (the people page) is used.
        site_ids = frozenset(site.pk for site in user.scoped_sites.all())
    return management_scope.reach_of(user, every_site=user.all_sites, site_ids=site_ids)
