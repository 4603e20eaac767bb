"""Ledger reads for the pages above it (country schema).

The ledger applies no site scope of its own (scope lives in stock.scope, a
layer above): callers pass an object they already got through their scoped
selector.
"""

from . import chain
from .models import LedgerEntry


def item_timeline(*, item) -> dict:
    """The item's custody entries, oldest first, each verified (its hash and its
    link to the entry before it). The caller got ``item`` through item_get."""
    entries = list(
        LedgerEntry.objects.filter(item_id=item.pk).select_related("site").order_by("sequence")
    )
    checked = chain.verify_entries(entries)
    return {"entries": checked, "ok": all(c.ok for c in checked)}
