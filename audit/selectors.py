"""Reading the access log (country schema on a country host), and a staff
member's support grants (public schema, on the public host).

Site scope: an administrator who sees every site sees every event; one scoped
to some sites sees the events tied to those sites, plus the events tied to no
site (sign-ins, administration). The scope itself comes from stock.scope.
"""

from django.db.models import QuerySet

from stock.scope import restrict_to_scope

from .filters import AccessEventFilterSet
from .models import AccessEvent, SupportGrantSummary


def access_event_filter(*, user, data=None) -> AccessEventFilterSet:
    """The access log's filters bound to ``data`` (user, date_from, date_to
    — dates, both included, in the country's days —, site, item: an SMS
    number, action), over the events the user may see, newest first."""
    # Lines tied to no site (e.g. a sign-in) are not site data: the scope keeps them.
    queryset = restrict_to_scope(
        AccessEvent.objects.select_related("user"), user, site_field="site_id", or_no_site=True
    )
    return AccessEventFilterSet(
        data if data is not None else {}, queryset=queryset.order_by("-id"), user=user
    )


def access_event_list(*, user, filters=None) -> QuerySet:
    """The events the user may see that pass ``filters``, newest first."""
    return access_event_filter(user=user, data=filters).qs


def support_grants_of_staff(*, user) -> QuerySet:
    """Public schema: the support grants a platform staff member holds (their
    summaries only, never a country's data)."""
    return SupportGrantSummary.objects.filter(staff_username=user.username)
