"""Throttles per account: wrong two-factor codes, and wrong passwords (the
lockout). A fixed window per account, in the cache.

Both count per account, never per what was typed: a username and an e-mail
address of the same person share one counter (accounts.adapters resolves the
account). The cache key function is django-tenants' (settings.CACHES), so
every key carries the schema name: user 7 of one country never shares a
counter with user 7 of another.
"""

from django.core.cache import cache

FAILURE_LIMIT = 5
WINDOW_SECONDS = 5 * 60


class Counter:
    def __init__(self, name: str, *, limit: int = FAILURE_LIMIT, window: int = WINDOW_SECONDS):
        self.name = name
        self.limit = limit
        self.window = window

    def _key(self, user) -> str:
        return f"sms:{self.name}:{user.pk}"

    def is_locked(self, user) -> bool:
        return cache.get(self._key(user), 0) >= self.limit

    def record_failure(self, user) -> None:
        key = self._key(user)
        # add() starts the window; incr() keeps its original expiry.
        if not cache.add(key, 1, self.window):
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.add(key, 1, self.window)

    def clear(self, user) -> None:
        cache.delete(self._key(user))


# Wrong authenticator or backup codes (sign-in, step-up, enrolment).
codes = Counter("2fa-failures")
# Wrong passwords, whatever identifier was typed (sign-in and step-up).
passwords = Counter("signin-failures")

# The names the two-factor services have always used.
is_locked = codes.is_locked
record_failure = codes.record_failure
clear = codes.clear
