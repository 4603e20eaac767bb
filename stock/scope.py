"""Site scope: the one place that decides which sites a user may see.

Every selector that returns sites, items or anything tied to a site filters
through ``visible_sites`` or ``restrict_to_scope``; nothing else reads
``User.all_sites`` or ``Site.scoped_users``.
"""

from django.db.models import Q, QuerySet

from accounts import management_scope
from accounts.management_scope import Reach

from .models import Site


def visible_sites(user) -> QuerySet:
    """The sites ``user`` may see in the current country."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Site.objects.none()
    if user.all_sites:
        return Site.objects.all()
    return Site.objects.filter(scoped_users=user)


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
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    if user.all_sites:
        return queryset
    sites = visible_sites(user).values("pk")
    fields = (site_field,) if isinstance(site_field, str) else site_field
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__in": sites})
    if or_no_site:
        for field in fields:
            condition |= Q(**{f"{field}__isnull": True})
    return queryset.filter(condition)


def can_see_site(user, site) -> bool:
    return visible_sites(user).filter(pk=site.pk).exists()


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
