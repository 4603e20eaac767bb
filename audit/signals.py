"""Sign-in, sign-out and failed sign-ins into the access log of the schema the
request is on. Receivers only call audit.services (no ORM writes here)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .models import AccessEvent
from .services import attempted_username, event_record, origin_of, user_for_attempt

# Set on the request by code that logs a user out for a reason of its own
# (idle session, support access ended), which it records itself.
SILENT_LOGOUT_ATTR = "_sms_logout_recorded"


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender, request, user, **kwargs):
    event_record(user=user, action=AccessEvent.Action.LOGIN, origin=origin_of(request))


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is None or getattr(request, SILENT_LOGOUT_ATTR, False):
        return
    event_record(user=user, action=AccessEvent.Action.LOGOUT, origin=origin_of(request))


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    # Django has already replaced the password with stars; only the name is kept.
    typed = attempted_username(credentials)
    event_record(
        user=user_for_attempt(typed),
        username=typed,
        action=AccessEvent.Action.LOGIN_FAILED,
        origin=origin_of(request),
    )
