"""Sign-in hooks that apps above accounts register into from their
``AppConfig.ready()``, so that the sign-in code (accounts.adapters) calls
them without importing them: accounts sits in the bottom layer (README,
"Layout").

- ``on_lockout``: told about each sign-in refused for too many failures
  (audit records it in the access log).
- ``add_sign_in_check``: asked about each user who typed the right password;
  a check answering False refuses the sign-in like a wrong password (None or
  True: no objection). administration refuses support accounts whose grant
  has ended.

Registrations are keyed by name, so registering twice replaces.
"""

from collections.abc import Callable

_lockout_listeners: dict[str, Callable] = {}
_sign_in_checks: dict[str, Callable] = {}


def on_lockout(listener: Callable, *, name: str) -> None:
    """``listener(request=..., credentials=...)`` for every lockout refusal."""
    _lockout_listeners[name] = listener


def add_sign_in_check(check: Callable, *, name: str) -> None:
    """``check(user)`` for every correct password; False refuses the sign-in."""
    _sign_in_checks[name] = check


def lockout_notify(*, request, credentials: dict) -> None:
    for listener in list(_lockout_listeners.values()):
        listener(request=request, credentials=credentials)


def sign_in_refused(user) -> bool:
    return any(check(user) is False for check in list(_sign_in_checks.values()))
