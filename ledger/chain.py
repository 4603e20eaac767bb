"""The custody ledger's chain (country schema): hashing, append and verify.

Each entry's hash is SHA-256 over a canonical JSON of its own content plus the
previous entry's hash, so altering, removing or reordering any entry breaks
the chain from there on. Appending locks the single LedgerHead row FOR
UPDATE: entries of one country get gapless sequence numbers in commit order,
and two transactions can never link to the same predecessor. Each append
then tells the registered listeners (ledger.listeners; reporting's aggregates)
in the same transaction, under the same lock.
"""

import datetime
import hashlib
import json
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.jsonable import jsonable as core_jsonable

from . import listeners
from .models import LedgerEntry, LedgerHead

GENESIS_HASH = "0" * 64
Event = LedgerEntry.Event


def jsonable(payload: dict) -> dict:
    # Exactly what JSONB gives back: Decimals, dates and UUIDs become strings,
    # so the hash computed now is the hash recomputed from the stored row.
    return core_jsonable(payload or {})


def _when(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def canonical_content(entry: LedgerEntry) -> dict:
    """The hashed content of ``entry`` (everything but the hash itself)."""

    def ref(value):
        return None if value is None else str(value)

    return {
        "sequence": entry.sequence,
        "event": entry.event,
        "occurred_at": _when(entry.occurred_at),
        "actor": ref(entry.actor_id),
        "actor_name": entry.actor_name,
        "site": ref(entry.site_id),
        "item": ref(entry.item_id),
        "transfer": ref(entry.transfer_id),
        "stocktake": ref(entry.stocktake_id),
        "payload": entry.payload,
        "prev_hash": entry.prev_hash,
    }


def compute_hash(entry: LedgerEntry) -> str:
    text = json.dumps(
        canonical_content(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _locked_head() -> LedgerHead:
    head = LedgerHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # The migration creates the row; this covers a schema whose tables
        # were emptied (e.g. a test flush). ON CONFLICT: two first appends.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO custody_ledgerhead (id, last_sequence, last_hash)"
                " VALUES (1, 0, %s) ON CONFLICT (id) DO NOTHING",
                [GENESIS_HASH],
            )
        head = LedgerHead.objects.select_for_update().get(pk=1)
    return head


def append(
    *,
    event: str,
    actor,
    site=None,
    item=None,
    transfer=None,
    stocktake=None,
    payload: dict | None = None,
) -> LedgerEntry:
    """Append one entry. Must run inside the transaction that makes the change,
    so the entry exists if and only if the change does."""
    if not connection.in_atomic_block:
        raise RuntimeError("ledger.append must run inside the transaction of the change")
    if event not in Event.values:
        raise ValueError(f"unknown ledger event {event!r}")
    head = _locked_head()
    entry = LedgerEntry(
        sequence=head.last_sequence + 1,
        event=event,
        occurred_at=timezone.now(),
        actor_id=getattr(actor, "pk", None),
        actor_name=actor.get_username() if actor is not None else "",
        site_id=getattr(site, "pk", site),
        item_id=getattr(item, "pk", item),
        transfer_id=getattr(transfer, "pk", transfer),
        stocktake_id=getattr(stocktake, "pk", stocktake),
        payload=jsonable(payload),
        prev_hash=head.last_hash,
    )
    entry.hash = compute_hash(entry)
    entry.save(force_insert=True)
    head.last_sequence = entry.sequence
    head.last_hash = entry.hash
    head.save(update_fields=["last_sequence", "last_hash"])
    # Listeners (the report aggregates) move with the ledger, in this
    # transaction and under the head lock.
    listeners.notify(entry)
    return entry


# --- Verification ----------------------------------------------------------------


@dataclass
class Problem:
    sequence: int
    message: str


@dataclass
class VerifyResult:
    checked: int = 0
    last_sequence: int = 0
    problem: Problem | None = None
    head_sequence: int | None = None
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem is None


def _check_one(entry: LedgerEntry, *, expected_sequence: int, prev_hash: str) -> str | None:
    """What is wrong with ``entry`` given where it sits in the chain, or None."""
    if entry.sequence != expected_sequence:
        if entry.sequence > expected_sequence:
            return _("entries %(first)s to %(last)s are missing from the chain") % {
                "first": expected_sequence,
                "last": entry.sequence - 1,
            }
        return _("sequence number %(found)s is out of order (expected %(expected)s)") % {
            "found": entry.sequence,
            "expected": expected_sequence,
        }
    if entry.prev_hash != prev_hash:
        return _(
            "its link to the previous entry does not match (stored previous hash %(stored)s, "
            "previous entry's hash %(actual)s)"
        ) % {"stored": entry.prev_hash[:16], "actual": prev_hash[:16]}
    recomputed = compute_hash(entry)
    if recomputed != entry.hash:
        return _(
            "its content no longer matches its hash (stored %(stored)s, recomputed "
            "%(actual)s): what, who, when, where or the item was changed after it was written"
        ) % {"stored": entry.hash[:16], "actual": recomputed[:16]}
    return None


def verify_chain(*, chunk_size: int = 2000) -> VerifyResult:
    """Check the whole chain of the current schema, oldest first; stops at the
    first entry that does not match and names it."""
    result = VerifyResult()
    prev_hash = GENESIS_HASH
    expected = 1
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            # One snapshot: entries appended while we read don't confuse the check.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        head = LedgerHead.objects.filter(pk=1).first()
        result.head_sequence = head.last_sequence if head else 0
        for entry in LedgerEntry.objects.order_by("sequence").iterator(chunk_size=chunk_size):
            message = _check_one(entry, expected_sequence=expected, prev_hash=prev_hash)
            if message:
                result.problem = Problem(sequence=entry.sequence, message=message)
                return result
            result.checked += 1
            result.last_sequence = entry.sequence
            prev_hash = entry.hash
            expected += 1
        if head is not None and (
            head.last_sequence != result.last_sequence or head.last_hash != prev_hash
        ):
            result.problem = Problem(
                sequence=result.last_sequence + 1,
                message=_(
                    "the chain ends at entry %(last)s but its head records entry %(head)s: "
                    "entries at the end were removed"
                )
                % {"last": result.last_sequence, "head": head.last_sequence},
            )
    return result


@dataclass
class ItemEntry:
    entry: LedgerEntry
    ok: bool
    message: str = ""


def verify_entries(entries: list[LedgerEntry]) -> list[ItemEntry]:
    """Check each of ``entries`` (e.g. one item's) on its own: its hash, and its
    link to the entry just before it in the chain."""
    wanted = {e.sequence - 1 for e in entries if e.sequence > 1}
    previous = dict(LedgerEntry.objects.filter(sequence__in=wanted).values_list("sequence", "hash"))
    checked = []
    for entry in entries:
        prev_hash = GENESIS_HASH if entry.sequence == 1 else previous.get(entry.sequence - 1)
        if prev_hash is None:
            message = _("the entry before it (%(n)s) is missing") % {"n": entry.sequence - 1}
        else:
            message = _check_one(entry, expected_sequence=entry.sequence, prev_hash=prev_hash)
        checked.append(ItemEntry(entry=entry, ok=message is None, message=message or ""))
    return checked
