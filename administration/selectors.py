"""Administration reads (country schema). Changes and pending corrections are
tied to items, so they go through the site scope (stock.scope)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts import management_scope
from stock.models import FieldDefinitionChange, ItemChange, Site
from stock.scope import reach_of, restrict_to_scope

from .filters import FieldChangeFilterSet, ItemChangeFilterSet
from .models import PendingCorrection, SupportGrant

User = get_user_model()


def may_manage(*, actor, user) -> bool:
    """May ``actor`` see and act on ``user`` (accounts.management_scope.may_manage)."""
    return management_scope.may_manage(reach_of(actor), reach_of(user))


def may_change_country(*, actor) -> bool:
    """Country-wide settings: only an administrator of all sites."""
    return management_scope.may_change_country(reach_of(actor))


def _people() -> QuerySet:
    permissions = Permission.objects.select_related("content_type")
    return User.objects.prefetch_related(
        Prefetch(
            "groups",
            queryset=Group.objects.prefetch_related(Prefetch("permissions", queryset=permissions)),
        ),
        Prefetch("user_permissions", queryset=permissions),
        Prefetch("scoped_sites", queryset=Site.objects.order_by("name")),
    )


def user_list(*, actor) -> list:
    """The accounts of the country ``actor`` may manage, active first. An
    administrator of some sites sees only the people whose every site is among
    theirs and who hold nothing above them (scope is a ceiling); one of all
    sites sees everyone. Filtered here with the one rule, not in SQL, so the
    list and the actions can never disagree (a country has hundreds of
    accounts, not millions)."""
    mine = reach_of(actor)
    people = _people().order_by("-is_active", "username")
    return [person for person in people if management_scope.may_manage(mine, reach_of(person))]


def user_get(*, actor, user_id) -> User:
    """The account, or 404 when it is outside ``actor``'s reach (as if it did not exist)."""
    person = get_object_or_404(_people(), pk=user_id)
    if not may_manage(actor=actor, user=person):
        raise Http404
    return person


def role_list() -> QuerySet:
    """The country's roles (groups) with their permissions."""
    return Group.objects.prefetch_related("permissions__content_type").order_by("name")


def site_names() -> dict[int, str]:
    """{site id: name} of every site, to name the sites in the access log
    (whose rows are already narrowed to the reader's scope)."""
    return dict(Site.objects.values_list("pk", "name"))


def support_account_ids() -> set[int]:
    return set(SupportGrant.objects.values_list("user_id", flat=True))


def support_grant_list(*, actor) -> list:
    """The support grants whose account ``actor`` may manage (support accounts
    have all sites: an administrator of some sites sees none)."""
    mine = reach_of(actor)
    grants = SupportGrant.objects.select_related("granted_by", "revoked_by").prefetch_related(
        Prefetch("user", queryset=_people())
    )
    return [g for g in grants if management_scope.may_manage(mine, reach_of(g.user))]


def support_grant_get(*, actor, grant_id) -> SupportGrant:
    """404 for a grant whose account is outside ``actor``'s reach."""
    grant = get_object_or_404(SupportGrant.objects.select_related("user"), pk=grant_id)
    if not may_manage(actor=actor, user=grant.user):
        raise Http404
    return grant


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
