"""Reading the access log (country schema on a country host), and a staff
member's support grants (public schema, on the public host).

Site scope: an administrator who sees every site sees every event; one scoped
to some sites sees the events tied to those sites, plus the events tied to no
site (sign-ins, administration). The scope itself comes from stock.scope.

People: one scoped to some sites sees only their own events and those of the
people they may manage (accounts.management_scope.may_manage: every site of
theirs within the viewer's, nothing above the viewer) — not another
administrator's promotions, HQ's exports or another's import runs. A failed
sign-in with no account is shown when the name typed is one of those people's.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Prefetch, Q, QuerySet

from accounts.management_scope import may_manage
from stock.scope import reach_of, restrict_to_scope, sees_all_sites

from .filters import AccessEventFilterSet
from .models import AccessEvent, SupportGrantSummary


def people_in_reach(user) -> list | None:
    """The accounts whose events ``user`` sees: themselves and those they may
    manage; None for someone who sees every site (everyone's)."""
    if sees_all_sites(user):
        return None
    permissions = Permission.objects.select_related("content_type")
    people = get_user_model().objects.prefetch_related(
        Prefetch(
            "groups",
            queryset=Group.objects.prefetch_related(Prefetch("permissions", queryset=permissions)),
        ),
        Prefetch("user_permissions", queryset=permissions),
        "scoped_sites",
    )
    mine = reach_of(user)
    return [p for p in people if p.pk == user.pk or may_manage(mine, reach_of(p))]


def access_event_filter(*, user, data=None) -> AccessEventFilterSet:
    """The access log's filters bound to ``data`` (user, date_from, date_to
    — dates, both included, in the country's days —, site, item: an SMS
    number, action), over the events the user may see, newest first."""
    # Lines tied to no site (e.g. a sign-in) are not site data: the scope keeps them.
    queryset = restrict_to_scope(
        AccessEvent.objects.select_related("user"), user, site_field="site_id", or_no_site=True
    )
    people = people_in_reach(user)
    if people is not None:
        queryset = queryset.filter(
            Q(user_id__in=[p.pk for p in people])
            | Q(user__isnull=True, username__in=[p.username for p in people])
        )
    filterset = AccessEventFilterSet(
        data if data is not None else {}, queryset=queryset.order_by("-id"), user=user
    )
    if people is not None:
        # The person list names only them too.
        field = filterset.filters["user"]
        field.queryset = field.queryset.filter(pk__in=[p.pk for p in people])
    return filterset


def access_event_list(*, user, filters=None) -> QuerySet:
    """The events the user may see that pass ``filters``, newest first."""
    return access_event_filter(user=user, data=filters).qs


def support_grants_of_staff(*, user) -> QuerySet:
    """Public schema: the support grants a platform staff member holds (their
    summaries only, never a country's data)."""
    return SupportGrantSummary.objects.filter(staff_username=user.username)
