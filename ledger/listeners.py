"""Who hears about new ledger entries, without the ledger importing them.

An app above the ledger registers a callable in its ``AppConfig.ready()``
(reporting registers its aggregates: ``reporting.totals.entries_appended``).
The ledger calls every listener with a list of the entries it has just
written — one entry for ``chain.append``, all of a batch for
``chain.batched()`` (the ODK sync, the register import) — in ledger order,
inside the transaction that makes the change and while it holds the ledger
head lock: a listener's writes commit if and only if the entries do, in
ledger order, and an exception in a listener undoes the whole change. One
form only: a listener treats a list of one and a list of thousands alike.
"""

from collections.abc import Callable

Listener = Callable[[list], None]

# Keyed by name so that a second ready() (a test re-populating the app
# registry) replaces the listener instead of calling it twice.
_listeners: dict[str, Listener] = {}


def register(listener: Listener, *, name: str | None = None) -> str:
    """Call ``listener(entries)`` for the entries of every append from now
    on (a list, in ledger order); returns the name to ``unregister`` it with."""
    key = name or f"{listener.__module__}.{listener.__qualname__}"
    _listeners[key] = listener
    return key


def unregister(name: str) -> None:
    _listeners.pop(name, None)


def registered() -> list[str]:
    return list(_listeners)


def notify(entries: list) -> None:
    """Tell every listener about ``entries`` (just written, in order)."""
    if not entries:
        return
    for listener in list(_listeners.values()):
        listener(entries)
