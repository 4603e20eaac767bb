"""At sign-in: start the idle clock, mark support sessions, and tell the
country's administrators when a support account is used. Receivers call
services only."""

from django.contrib.auth.signals import user_logged_in
from django.db import connection
from django.dispatch import receiver
from django_tenants.utils import get_public_schema_name

from tenants.current import current_country

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
            # The request's country (test clients' force_login and scripts have
            # no routed request: the connection's schema says which).
            support_login_notify(user=user, country=current_country())
    session_start(request, support=support)
