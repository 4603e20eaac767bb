"""What a process keeps of a small table between requests, and the token in
the shared cache that says it is still current.

A process keeps what it read (the catalogue of a country's stores and
types, the countries by host name) for as long as the token under ``key``
is the one it read them under. Saving or deleting a row they come from
calls ``forget``, which deletes the token (and the other keys named) at
once and again when the transaction commits, so a reader in between can't
keep what it read before the commit. Every process then reads the table
again on its next request. The token lives ``seconds`` at most: a change
made without the models is seen within that time too.

Keys carry the schema the connection is on (django_tenants' cache key
function); ``forget`` deletes them in the schema the change was made in
(or the one named), also when the transaction commits on another — as
provisioning's does, on the public schema.
"""

import secrets

from django.core.cache import cache
from django.db import connection, transaction
from django_tenants.utils import schema_context


def token(key: str, seconds: int) -> str:
    """The token under ``key``, made (for ``seconds``) when there is none;
    of two processes making one at once, both get the one that was stored."""
    found = cache.get(key)
    if found is None:
        made = secrets.token_hex(8)
        found = made if cache.add(key, made, seconds) else cache.get(key, made)
    return found


def forget(*keys: str, schema: str | None = None) -> None:
    """Delete ``keys`` in ``schema``'s cache keys (the connection's by
    default) now and when the transaction commits."""
    schema = schema or connection.schema_name

    def delete() -> None:
        with schema_context(schema):
            cache.delete_many(list(keys))

    delete()
    transaction.on_commit(delete)
