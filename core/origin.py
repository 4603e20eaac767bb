"""Where a request came from: the client address and browser, the one rule
for every record that keeps them (the access log, QR code views, allauth's
per-address sign-in limits).

Services never see requests: views pass them an ``Origin`` built here.
"""

import ipaddress
from dataclasses import dataclass

from django.conf import settings

USER_AGENT_MAX = 300


@dataclass(frozen=True)
class Origin:
    """Where a request came from, kept apart from the request so services
    (which never see requests) can record it."""

    ip_address: str | None = None
    user_agent: str = ""


def client_ip(request) -> str | None:
    """The client's address. REMOTE_ADDR, unless the deployment says how many
    proxies of its own sit in front (SMS_TRUSTED_PROXY_COUNT; nginx in
    deploy/nginx.conf appends the address it saw to X-Forwarded-For, so 1
    there): then the entry that many places from the right of
    X-Forwarded-For, the one our nearest trusted proxy saw. Entries further
    left are written by the client and can be anything, so they are never
    used."""
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
