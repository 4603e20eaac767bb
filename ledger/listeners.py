"""Who hears about each new ledger entry, without the ledger importing them.

An app above the ledger registers a callable in its ``AppConfig.ready()``
(reporting registers its aggregates: ``reporting.totals.entry_appended``).
``chain.append`` calls every listener with the new entry inside the
transaction that makes the change and while it holds the ledger head lock: a
listener's writes commit if and only if the entry does, in ledger order, and
an exception in a listener undoes the whole change.

A listener may also give a callable for several entries at once (``many``):
``chain.batched`` appends a batch of entries under one head lock and calls it
once with all of them, in ledger order (reporting writes its aggregates for
a batch in a few statements instead of two per entry). Without one, the
listener is called once per entry of the batch.
"""

from collections.abc import Callable

Listener = Callable[[object], None]
ManyListener = Callable[[list], None]

# Keyed by name so that a second ready() (a test re-populating the app
# registry) replaces the listener instead of calling it twice.
_listeners: dict[str, Listener] = {}
_many: dict[str, ManyListener] = {}


def register(
    listener: Listener, *, name: str | None = None, many: ManyListener | None = None
) -> str:
    """Call ``listener(entry)`` for every entry appended from now on (and
    ``many(entries)``, if given, for a batch of them); returns the name to
    ``unregister`` it with."""
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
    """Tell every listener about ``entries`` (in ledger order), at once where
    it can take them at once."""
    if not entries:
        return
    for key, listener in list(_listeners.items()):
        many = _many.get(key)
        if many is not None:
            many(entries)
        else:
            for entry in entries:
                listener(entry)
