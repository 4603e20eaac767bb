"""Who hears about each new ledger entry, without the ledger importing them.

An app above the ledger registers a callable in its ``AppConfig.ready()``
(reporting registers its aggregates: ``reporting.totals.entry_appended``).
``chain.append`` calls every listener with the new entry inside the
transaction that makes the change and while it holds the ledger head lock: a
listener's writes commit if and only if the entry does, in ledger order, and
an exception in a listener undoes the whole change.
"""

from collections.abc import Callable

Listener = Callable[[object], None]

# Keyed by name so that a second ready() (a test re-populating the app
# registry) replaces the listener instead of calling it twice.
_listeners: dict[str, Listener] = {}


def register(listener: Listener, *, name: str | None = None) -> str:
    """Call ``listener(entry)`` for every entry appended from now on; returns
    the name to ``unregister`` it with."""
    key = name or f"{listener.__module__}.{listener.__qualname__}"
    _listeners[key] = listener
    return key


def unregister(name: str) -> None:
    _listeners.pop(name, None)


def registered() -> list[str]:
    return list(_listeners)


def notify(entry) -> None:
    for listener in list(_listeners.values()):
        listener(entry)
