"""At sign-in: start the idle clock, mark support sessions, and tell the
country's administrators when a support account is used. Receivers call
services only."""

from django.contrib.auth.signals import user_logged_in
from django.db import connection
from django.dispatch import receiver
from django_tenants.utils import get_public_schema_name

from .middleware import session_start


@receiver(user_logged_in, dispatch_uid="administration_login")
def _logged_in(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    support = False
    if connection.schema_name != get_public_schema_name():
        from .services import support_account_valid, support_login_notify

        support = support_account_valid(user) is not None
        if support:
            support_login_notify(user=user, country=_country_of(request))
    session_start(request, support=support)


def _country_of(request):
    from tenants.models import Country

    country = getattr(request, "tenant", None)
    if isinstance(country, Country) and country.pk:
        return country
    # Test clients' force_login and scripts have no routed request.
    return Country.objects.get(schema_name=connection.schema_name)
