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

from django.db.models.signals import post_delete, post_save
from django_tenants.utils import get_public_schema_name

from core import kept

from .models import Country, Domain

TOKEN_KEY = "tenants:hosts:token"
SECONDS = 10

# host name -> (the token it was read under, its Country)
_kept: dict[str, tuple[str, Country]] = {}


def forget(**_kwargs) -> None:
    kept.forget(TOKEN_KEY, schema=get_public_schema_name())


for _model in (Country, Domain):
    post_save.connect(forget, sender=_model, dispatch_uid=f"tenants_hosts_save_{_model.__name__}")
    post_delete.connect(
        forget, sender=_model, dispatch_uid=f"tenants_hosts_delete_{_model.__name__}"
    )


def country_for_host(hostname: str) -> Country:
    """The country of ``hostname`` (Domain.DoesNotExist for an unknown host:
    never kept, so a host added later is found at once)."""
    # Called on the public schema (the middleware's first step).
    token = kept.token(TOKEN_KEY, SECONDS)
    found = _kept.get(hostname)
    if found is not None and found[0] == token:
        country = found[1]
    else:
        country = Domain.objects.select_related("tenant").get(domain=hostname).tenant
        if len(_kept) > 1000:  # hosts come from requests: keep it bounded
            _kept.clear()
        _kept[hostname] = (token, country)
    return copy.deepcopy(country)
