"""At sign-in: start the idle clock, mark support sessions, and tell the
country's administrators when a support account is used; corrections asked
for, approved or rejected (stock.signals) go into the access log. Receivers
call services only."""

from django.contrib.auth.signals import user_logged_in
from django.db import connection
from django.dispatch import receiver
from django_tenants.utils import get_public_schema_name

from audit.models import AccessEvent
from audit.services import event_record
from stock.signals import correction_approved, correction_rejected, correction_requested
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


# --- Corrections: the access log shows who asked for and who decided each ----


@receiver(correction_requested, dispatch_uid="administration_correction_requested")
def _correction_requested(sender, *, actor, pending, origin=None, **kwargs):
    event_record(
        user=actor,
        action=AccessEvent.Action.CORRECTION_REQUESTED,
        origin=origin,
        obj=pending.item,
        details={"pending": pending.pk, "fields": sorted(pending.changes)},
    )


@receiver(correction_approved, dispatch_uid="administration_correction_approved")
def _correction_approved(sender, *, actor, pending, changes, origin=None, **kwargs):
    event_record(
        user=actor,
        action=AccessEvent.Action.CORRECTION_APPROVED,
        origin=origin,
        obj=pending.item,
        details={"pending": pending.pk, "changes": [c.pk for c in changes]},
    )


@receiver(correction_rejected, dispatch_uid="administration_correction_rejected")
def _correction_rejected(sender, *, actor, pending, origin=None, **kwargs):
    event_record(
        user=actor,
        action=AccessEvent.Action.CORRECTION_REJECTED,
        origin=origin,
        obj=pending.item,
        details={"pending": pending.pk, "note": pending.decision_note},
    )
