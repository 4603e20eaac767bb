"""Which country a host name is, without a query on every request.

Every request on a country's host looked its domain and country up (one
query, ~1 ms of the web process's CPU, a twentieth of a list page). Here a
process keeps the countries it found by host name for as long as a token in
the shared cache stands: saving or deleting any country or domain deletes
the token (at once and again when the transaction commits), so every
process reads them again on its next request — a suspension, a new idle
time or two-step policy applies at once everywhere. The token lives
``SECONDS`` at most, so a change made without the models (SQL, a queryset's
``update()``) is seen within that time too. The cache must be shared by
the processes (Redis: production refuses to start without ``REDIS_URL``).

The token's key is the public schema's whichever schema the connection is
on when a country changes (a country's own administrator changes its idle
time on its own host). A kept country carries the token it was read under
(a thread that read it before a change can't keep it after), and each
request gets its own copy.
"""

import copy
import secrets

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django_tenants.utils import get_public_schema_name, schema_context

from .models import Country, Domain

TOKEN_KEY = "tenants:hosts:token"
SECONDS = 10

# host name -> (the token it was read under, its Country)
_kept: dict[str, tuple[str, Country]] = {}


def _delete_token() -> None:
    with schema_context(get_public_schema_name()):
        cache.delete(TOKEN_KEY)


def forget(**_kwargs) -> None:
    _delete_token()
    transaction.on_commit(_delete_token)


for _model in (Country, Domain):
    post_save.connect(forget, sender=_model, dispatch_uid=f"tenants_hosts_save_{_model.__name__}")
    post_delete.connect(
        forget, sender=_model, dispatch_uid=f"tenants_hosts_delete_{_model.__name__}"
    )


def _token() -> str:
    """The token that says the kept countries are current (made when absent).
    Called on the public schema (the middleware's first step)."""
    token = cache.get(TOKEN_KEY)
    if token is None:
        made = secrets.token_hex(8)
        token = made if cache.add(TOKEN_KEY, made, SECONDS) else cache.get(TOKEN_KEY, made)
    return token


def country_for_host(hostname: str) -> Country:
    """The country of ``hostname`` (Domain.DoesNotExist for an unknown host:
    never kept, so a host added later is found at once)."""
    token = _token()
    kept = _kept.get(hostname)
    if kept is not None and kept[0] == token:
        country = kept[1]
    else:
        country = Domain.objects.select_related("tenant").get(domain=hostname).tenant
        if len(_kept) > 1000:  # hosts come from requests: keep it bounded
            _kept.clear()
        _kept[hostname] = (token, country)
    return copy.deepcopy(country)
