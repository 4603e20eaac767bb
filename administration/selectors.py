"""Administration reads (country schema). Changes and pending corrections are
tied to items, so they go through the site scope (stock.scope)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from stock.models import FieldDefinitionChange, ItemChange, Site
from stock.scope import restrict_to_scope

from .filters import FieldChangeFilterSet, ItemChangeFilterSet
from .models import PendingCorrection, SupportGrant

User = get_user_model()


def user_list() -> QuerySet:
    """Every account of the country, active first. Users are not tied to one
    site, so administrators see them all (the sites they can hand out are
    limited by their own scope)."""
    return User.objects.prefetch_related(
        "groups", Prefetch("scoped_sites", queryset=Site.objects.order_by("name"))
    ).order_by("-is_active", "username")


def user_get(*, user_id) -> User:
    return get_object_or_404(User, pk=user_id)


def role_list() -> QuerySet:
    """The country's roles (groups) with their permissions."""
    return Group.objects.prefetch_related("permissions__content_type").order_by("name")


def site_names() -> dict[int, str]:
    """{site id: name} of every site, to name the sites in the access log
    (whose rows are already narrowed to the reader's scope)."""
    return dict(Site.objects.values_list("pk", "name"))


def support_account_ids() -> set[int]:
    return set(SupportGrant.objects.values_list("user_id", flat=True))


def support_grant_list() -> QuerySet:
    return SupportGrant.objects.select_related("user", "granted_by", "revoked_by")


def item_change_filter(*, user, data=None) -> ItemChangeFilterSet:
    """The change page's filters bound to ``data`` (user, date_from, date_to,
    site, item, field), over every correction of every item in the user's
    scope, newest first."""
    queryset = restrict_to_scope(
        ItemChange.objects.select_related("item__site", "changed_by"), user, site_field="item__site"
    )
    return ItemChangeFilterSet(
        data if data is not None else {},
        queryset=queryset.order_by("-changed_at", "-id"),
        user=user,
    )


def item_change_list(*, user, filters=None) -> QuerySet:
    """Every correction of every item in the user's scope that passes ``filters``, newest first."""
    return item_change_filter(user=user, data=filters).qs


def field_change_list(*, user, filters=None) -> QuerySet:
    """Changes to custom field definitions (country-wide: no site scope)."""
    queryset = FieldDefinitionChange.objects.select_related("definition", "changed_by")
    return FieldChangeFilterSet(
        filters if filters is not None else {},
        queryset=queryset.order_by("-changed_at", "-id"),
        user=user,
    ).qs


def pending_correction_list(*, user, status: str = PendingCorrection.Status.PENDING) -> QuerySet:
    queryset = PendingCorrection.objects.select_related(
        "item__site", "requested_by", "decided_by"
    ).filter(status=status)
    return restrict_to_scope(queryset, user, site_field="item__site").order_by("-requested_at")


def pending_correction_get(*, user, pending_id) -> PendingCorrection:
    """404 for a correction of an item outside the user's scope."""
    queryset = restrict_to_scope(
        PendingCorrection.objects.select_related("item__site", "requested_by"),
        user,
        site_field="item__site",
    )
    return get_object_or_404(queryset, pk=pending_id)


def administrator_addresses() -> list[str]:
    """E-mail addresses of the country's active administrators (people who
    manage users), support accounts left out: who is told about support
    access and about evidence that no longer verifies."""
    admins = (
        User.objects.filter(is_active=True)
        .filter(
            Q(groups__permissions__codename="manage_users")
            | Q(user_permissions__codename="manage_users")
            | Q(is_superuser=True)
        )
        .exclude(support_grants__isnull=False)
        .exclude(email="")
        .distinct()
    )
    return sorted(admins.values_list("email", flat=True))
