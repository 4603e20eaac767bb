"""Custody writes (country schema), by sub-domain:

- ``transfers``: prepare, dispatch, cancel, receive;
- ``discrepancies``: settling what a receipt found, the weight tolerance;
- ``stocktakes``: open, check, register found items, sign off;
- ``common``: what they share (settings row, typed weights, locked transfer).

Every function is atomic and keyword-only. Bad input raises ValidationError
with {field: [messages]} and writes nothing. An object outside the actor's
site scope is Http404 (as if it did not exist); an action on a visible
object that is not the actor's to take (a destination user dispatching, a
manager resolving) is PermissionDenied (accounts.permissions).

Each change to an item's custody, place, weight or status appends its ledger
entry (custody.ledger) in the same transaction. Stock's rows (the item, its
history, the totals) are written by stock's services only: ``item_move`` for
a site or status, the correction path for a weight.

``from custody import services; services.transfer_create(...)`` keeps
working: the names below are the package's public ones.
"""

from .common import custody_settings
from .discrepancies import discrepancy_resolve, settings_update
from .stocktakes import (
    ScanResult,
    stocktake_check,
    stocktake_check_many,
    stocktake_check_rest,
    stocktake_open,
    stocktake_register_item,
    stocktake_scan,
    stocktake_sign_off,
)
from .transfers import (
    ReceiptCheck,
    transfer_cancel,
    transfer_create,
    transfer_dispatch,
    transfer_receive,
)

__all__ = [
    "ReceiptCheck",
    "ScanResult",
    "custody_settings",
    "discrepancy_resolve",
    "settings_update",
    "stocktake_check",
    "stocktake_check_many",
    "stocktake_check_rest",
    "stocktake_open",
    "stocktake_register_item",
    "stocktake_scan",
    "stocktake_sign_off",
    "transfer_cancel",
    "transfer_create",
    "transfer_dispatch",
    "transfer_receive",
]
