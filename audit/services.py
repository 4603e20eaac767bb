"""Writing the access log (schema: whichever the connection is on — a
country's schema on its host, the public schema on the console).

Views do not call this module: they declare what they show
(``core.access.logs_access``) and ``audit.middleware`` writes the row through
``access_record``. Services call ``event_record`` for what a person did
(administration), the sign-in receivers for signing in and out.

Events are only ever inserted; the database refuses UPDATE and DELETE.
"""

from django.utils import timezone

# The client address rule and the list-filter cleaning live in core (views of
# every layer use them); imported here for the callers of audit.services.
from core.access import AccessAction, filters_for_log
from core.origin import Origin, client_ip, origin_of

from .models import AccessEvent

__all__ = [
    "Origin",
    "access_record",
    "client_ip",
    "event_record",
    "filters_for_log",
    "lockout_record",
    "origin_of",
]


def _site_id_of(obj, site):
    if site is not None:
        return getattr(site, "pk", site)
    if obj is None:
        return None
    if getattr(obj, "site_id", None) is not None:
        return obj.site_id
    item = getattr(obj, "item", None)  # a photo, a change, an archive record
    return getattr(item, "site_id", None)


def _repr_of(obj) -> str:
    if obj is None:
        return ""
    # Events about a photo are found by the SMS number of its item.
    item = getattr(obj, "item", None)
    if item is not None and hasattr(item, "sms_number"):
        return item.sms_number
    return str(obj)[:200]


def event_record(
    *,
    user,
    action: str,
    origin: Origin | None = None,
    obj=None,
    site=None,
    details: dict | None = None,
    username: str = "",
) -> AccessEvent:
    """Insert one event. ``user`` may be None (a failed sign-in with an
    unknown name: ``username`` is what was typed). ``action`` must be one of
    the enum's (ValueError otherwise): the activity page filters and names
    events by it."""
    action = AccessAction(action)
    origin = origin or Origin()
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return AccessEvent.objects.create(
        at=timezone.now(),
        user=user,
        username=(username or (user.get_username() if user is not None else ""))[:150],
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=_repr_of(obj),
        site_id=_site_id_of(obj, site),
        details=details or {},
    )


def access_record(
    *, request, action: str, obj=None, site=None, details: dict | None = None
) -> AccessEvent:
    """Record what ``request.user`` saw or did (``details``: e.g. a list's filters)."""
    return event_record(
        user=request.user,
        action=action,
        origin=origin_of(request),
        obj=obj,
        site=site,
        details=details,
    )


def attempted_username(credentials: dict) -> str:
    for key in ("username", "email", "login"):
        value = (credentials or {}).get(key)
        if value:
            return str(value)[:150]
    return ""


def user_for_attempt(typed: str):
    """The account a failed sign-in was aimed at, if that name exists here."""
    from django.contrib.auth import get_user_model

    if not typed:
        return None
    users = get_user_model().objects
    return users.filter(username__iexact=typed).first() or users.filter(email__iexact=typed).first()


def lockout_record(*, request, credentials: dict) -> AccessEvent:
    """A sign-in refused because of too many failures (allauth's rate limit)."""
    typed = attempted_username(credentials)
    return event_record(
        user=user_for_attempt(typed),
        username=typed,
        action=AccessEvent.Action.LOCKOUT,
        origin=origin_of(request),
    )
