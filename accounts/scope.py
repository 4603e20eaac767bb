"""Site scope: the one place that decides which sites a user may see.

Every selector that returns sites, items or anything tied to a site filters
through ``visible_sites`` or ``restrict_to_scope``; nothing else reads
``User.all_sites`` or ``Site.scoped_users``.
"""

from django.db.models import QuerySet


def visible_sites(user) -> QuerySet:
    """The sites ``user`` may see in the current country."""
    from stock.models import Site

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Site.objects.none()
    if user.all_sites:
        return Site.objects.all()
    return Site.objects.filter(scoped_users=user)


def restrict_to_scope(queryset: QuerySet, user, *, site_field: str = "site") -> QuerySet:
    """Narrow ``queryset`` to rows whose ``site_field`` is in the user's scope."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    if user.all_sites:
        return queryset
    return queryset.filter(**{f"{site_field}__in": visible_sites(user).values("pk")})


def can_see_site(user, site) -> bool:
    return visible_sites(user).filter(pk=site.pk).exists()
