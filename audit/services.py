"""Writing the access log (schema: whichever the connection is on — a
country's schema on its host, the public schema on the console).

Other features call ``access_record`` once per page that shows data:

    access_record(request=request, action=AccessEvent.Action.ITEM_VIEW, obj=item)

Events are only ever inserted; the database refuses UPDATE and DELETE.
"""

import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from .models import AccessEvent

USER_AGENT_MAX = 300


@dataclass(frozen=True)
class Origin:
    """Where a request came from, kept apart from the request so services
    (which never see requests) can record it."""

    ip_address: str | None = None
    user_agent: str = ""


def client_ip(request) -> str | None:
    """The client's address. REMOTE_ADDR, unless the deployment says how many
    proxies of its own sit in front (SMS_TRUSTED_PROXY_COUNT): then the entry
    that many places from the right of X-Forwarded-For, the one our nearest
    trusted proxy saw. Entries further left are written by the client and can
    be anything, so they are never used."""
    meta = request.META
    address = meta.get("REMOTE_ADDR")
    trusted = getattr(settings, "SMS_TRUSTED_PROXY_COUNT", 0)
    if trusted > 0:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= trusted:
            address = forwarded[-trusted]
    try:
        return str(ipaddress.ip_address((address or "").strip()))
    except ValueError:
        return None


def origin_of(request) -> Origin:
    if request is None:
        return Origin()
    return Origin(
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
    )


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
    unknown name: ``username`` is what was typed)."""
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


def filters_for_log(filters: dict) -> dict:
    """A list's filters as JSON: model instances by id, dates as text, empty ones left out."""
    clean = {}
    for key, value in (filters or {}).items():
        if value in (None, "", [], ()):
            continue
        if hasattr(value, "pk"):
            value = value.pk
        elif isinstance(value, list | tuple | set):
            value = [getattr(v, "pk", v) for v in value]
            value = [v if isinstance(v, int | str) else str(v) for v in value]
        elif not isinstance(value, bool | int | str):
            value = str(value)
        clean[key] = value
    return clean


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
