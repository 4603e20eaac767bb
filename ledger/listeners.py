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
# Optional: the same listener for many entries at once (chain.append_many).
_many: dict[str, Callable[[list], None]] = {}


def register(
    listener: Listener, *, name: str | None = None, many: Callable[[list], None] | None = None
) -> str:
    """Call ``listener(entry)`` for every entry appended from now on; returns
    the name to ``unregister`` it with. ``many(entries)``, if given, hears a
    batch of entries (``chain.append_many``) in one call, with the same result
    as ``listener`` called on each in order."""
    key = name or f"{listener.__module__}.{listener.__qualname__}"
    _listeners[key] = listener
    if many is not None:
        _many[key] = many
    else:
        _many.pop(key, None)
    return key


def unregister(name: str) -> None:
    _listeners.pop(name, None)
    _many.pop(name, None)


def registered() -> list[str]:
    return list(_listeners)


def notify(entry) -> None:
    for listener in list(_listeners.values()):
        listener(entry)


def notify_many(entries: list) -> None:
    for key, listener in list(_listeners.items()):
        many = _many.get(key)
        if many is not None:
            many(entries)
        else:
            for entry in entries:
                listener(entry)
