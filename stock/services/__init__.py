"""Stock register writes (country schema), by sub-domain:

- ``registration``: registering items, adding photos;
- ``corrections``: the correction path — every change to an item's recorded
  values, with the country's approval rule (and PendingCorrection's approval);
- ``archive``: taking an item out of the stock;
- ``field_definitions``: the country's custom fields;
- ``totals``: the running totals (StockTotal) and ``item_move``, the write
  custody uses to change an item's site or status;
- ``fields``, ``common``: what the others share (the item field rules, the
  locked item in scope, photos).

Every function is atomic and keyword-only: bad input raises ValidationError
with a dict {field: [messages]} and nothing is written. Error keys are the
item's field names (``weight_kg``, ``received_on`` ...), ``custom_<key>`` for
custom values, ``photos`` for photos, ``cites_mark``, ``site``, ``reason``,
and ``__all__`` (NON_FIELD_ERRORS) for the item as a whole (e.g. archived).

Who may do what: registering needs ``stock.register_item`` and the site in the
actor's scope (else a ValidationError on ``site``); correcting, archiving and
adding photos need ``correct_item`` / ``archive_item`` / ``register_item`` or
``correct_item`` (else PermissionDenied, accounts.permissions) and the item's
site in scope (else Http404, as for any object outside the scope). The ODK
sync and custody call these same functions; stock's rows (items, photos,
history, totals) are written here only. Registration, corrections and
archiving append their custody ledger entry in the same transaction.

``from stock import services; services.item_register(...)`` keeps working:
the names below are the package's public ones.
"""

from .archive import archive_check_new, item_archive
from .common import check_photos
from .corrections import (
    APPROVE_CORRECTION,
    Approval,
    correction_approve,
    correction_needs_approval,
    correction_reject,
    correction_submit,
    item_correct,
    plan_correction,
)
from .field_definitions import (
    DEFINITION_FIELDS,
    custom_field_deactivate,
    custom_field_save,
    definition_snapshot,
)
from .fields import (
    CORRECTABLE_EXTRA,
    ITEM_FIELDS,
    NOT_CORRECTABLE,
    clean_item_fields,
    mark_holders_cached,
)
from .registration import (
    Registration,
    item_register,
    items_register_many,
    may_add_photos,
    photo_add,
    photos_add,
    registration_check,
)
from .totals import TotalsKey, item_move, totals_add_many, totals_adjust

__all__ = [
    "APPROVE_CORRECTION",
    "CORRECTABLE_EXTRA",
    "DEFINITION_FIELDS",
    "ITEM_FIELDS",
    "NOT_CORRECTABLE",
    "Approval",
    "Registration",
    "TotalsKey",
    "archive_check_new",
    "check_photos",
    "clean_item_fields",
    "correction_approve",
    "correction_needs_approval",
    "correction_reject",
    "correction_submit",
    "custom_field_deactivate",
    "custom_field_save",
    "definition_snapshot",
    "item_archive",
    "item_correct",
    "item_move",
    "item_register",
    "items_register_many",
    "mark_holders_cached",
    "may_add_photos",
    "photo_add",
    "photos_add",
    "plan_correction",
    "registration_check",
    "totals_add_many",
    "totals_adjust",
]
