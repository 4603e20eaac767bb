"""Throttle for wrong two-factor codes: a fixed window per user, in the cache.

The cache key function is django-tenants' (settings.CACHES), so every key
carries the schema name: user 7 of one country never shares a counter with
user 7 of another.
"""

from django.core.cache import cache

FAILURE_LIMIT = 5
WINDOW_SECONDS = 5 * 60


def _key(user) -> str:
    return f"sms:2fa-failures:{user.pk}"


def is_locked(user) -> bool:
    return cache.get(_key(user), 0) >= FAILURE_LIMIT


def record_failure(user) -> None:
    key = _key(user)
    # add() starts the window; incr() keeps its original expiry.
    if not cache.add(key, 1, WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, WINDOW_SECONDS)


def clear(user) -> None:
    cache.delete(_key(user))
