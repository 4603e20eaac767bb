"""The custody ledger's chain (country schema): hashing, append and verify.

Each entry's hash is SHA-256 over a canonical JSON of its own content plus the
previous entry's hash, so altering, removing or reordering any entry breaks
the chain from there on. Appending locks the single LedgerHead row FOR
UPDATE: entries of one country get gapless sequence numbers in commit order,
and two transactions can never link to the same predecessor. Each append
then tells the registered listeners (ledger.listeners; reporting's aggregates)
in the same transaction, under the same lock. A bulk writer (the ODK sync)
appends a batch of entries under one lock in one transaction (``batched``);
so does the register import (stock.services.items_register_many): one batch
path, and the listeners hear every append as a list of entries.

The hash formula is public, so the chain alone only catches someone who
changes a row without recomputing. Each entry's hash is therefore also signed
with the country's ledger key (ledger.signing), which the database never
holds: rewriting an entry and re-hashing everything after it leaves
signatures that no longer match. Cutting entries off the end leaves a shorter
chain that still verifies; the signed checkpoints (ledger.checkpoints) that
leave the database on documents and e-mails catch that.
"""

import datetime
import hashlib
import json
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.core import signing as signing_core
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.bulk import copy_create
from core.jsonable import jsonable as core_jsonable

from . import listeners, signing
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


def _seal(entry: LedgerEntry, head: LedgerHead) -> None:
    """Give ``entry`` its place after ``head`` (locked): sequence, time, link,
    hash and signature; the head (in memory) moves to it."""
    entry.sequence = head.last_sequence + 1
    entry.occurred_at = timezone.now()
    entry.prev_hash = head.last_hash
    entry.hash = compute_hash(entry)
    entry.signature = signing.sign_entry(entry.hash)
    head.last_sequence = entry.sequence
    head.last_hash = entry.hash


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
    so the entry exists if and only if the change does. Inside ``batched()``
    the entry is appended with the batch's others when the batch ends (same
    transaction): it gets its sequence, time and hash then."""
    if not connection.in_atomic_block:
        raise RuntimeError("ledger.append must run inside the transaction of the change")
    if event not in Event.values:
        raise ValueError(f"unknown ledger event {event!r}")
    entry = LedgerEntry(
        event=event,
        actor_id=getattr(actor, "pk", None),
        actor_name=actor.get_username() if actor is not None else "",
        site_id=getattr(site, "pk", site),
        item_id=getattr(item, "pk", item),
        transfer_id=getattr(transfer, "pk", transfer),
        stocktake_id=getattr(stocktake, "pk", stocktake),
        payload=jsonable(payload),
    )
    batch = _batch.get()
    if batch is not None:
        batch.entries.append(entry)
        return entry
    head = _locked_head()
    _seal(entry, head)
    entry.save(force_insert=True)
    head.save(update_fields=["last_sequence", "last_hash"])
    # Listeners (the report aggregates) move with the ledger, in this
    # transaction and under the head lock: a batch of one.
    listeners.notify([entry])
    return entry


# --- Batches -----------------------------------------------------------------------
#
# A bulk writer (the ODK sync: hundreds of registrations a minute; the register
# import: thousands of registrations in a chunk) would lock
# and update the head, insert an entry and run the listeners once per change:
# most of its time. Inside ``batched()`` the entries are kept in order and
# appended together when the batch ends, still inside its transaction: one
# head lock (taken at the end, so held only while they are written and the
# transaction commits), one INSERT, one head UPDATE, the listeners once with
# all of them. Every guarantee of ``append`` holds: an entry exists if and
# only if its change commits, entries get gapless sequence numbers in commit
# order (the time of each is taken under the lock, as in ``append``), each
# links to the one before, the listeners' writes commit with them.
#
# One unit of the batch that fails must not take the others down: each goes
# in ``batch.isolated()``, a savepoint that, if it rolls back, drops the
# entries appended inside it with the changes they record. A savepoint opened
# otherwise inside a batch must not swallow an exception after an append (an
# entry for a change undone); the services don't.

_batch: ContextVar["Batch | None"] = ContextVar("ledger_batch", default=None)


class Batch:
    """The entries appended inside ``batched()``, written when it ends."""

    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []

    @contextmanager
    def isolated(self):
        """A savepoint for one unit of the batch: if it raises, its changes
        and its entries are undone, and the exception goes on to the caller
        (who may carry on with the next unit)."""
        mark = len(self.entries)
        try:
            with transaction.atomic():
                yield
        except BaseException:
            del self.entries[mark:]
            raise

    def write(self) -> None:
        if not self.entries:
            return
        head = _locked_head()
        for entry in self.entries:
            _seal(entry, head)
        copy_create(self.entries)  # one COPY (core.bulk): the INSERT's rows, faster
        head.save(update_fields=["last_sequence", "last_hash"])
        listeners.notify(self.entries)
        self.entries = []


@contextmanager
def batched():
    """One transaction (a savepoint inside another) whose ledger entries are
    appended together at its end, under one lock of the head (see above).
    Yields the ``Batch``; nested, the outer batch appends the inner's entries."""
    outer = _batch.get()
    if outer is not None:
        with outer.isolated():
            yield outer
        return
    batch = Batch()
    with transaction.atomic():
        token = _batch.set(batch)
        try:
            yield batch
        finally:
            _batch.reset(token)
        batch.write()


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
    # The country's public key the signatures were checked with.
    fingerprint: str = ""
    # Entries 1..backfilled_to were signed when signing was introduced.
    backfilled_to: int = 0
    backfilled_at: datetime.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _check_one(entry: LedgerEntry, *, expected_sequence: int, prev_hash: str, key) -> str | None:
    """What is wrong with ``entry`` given where it sits in the chain, or None.
    ``key``: the country's public key (None: the signature is not checked)."""
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
    if key is None:
        return None
    if not entry.signature:
        return _("it carries no signature: it was not written by SMS")
    if not signing.entry_signature_valid(entry.hash, entry.signature, key=key):
        return _(
            "its signature does not match its hash: the entry was rewritten (and the chain "
            "re-hashed) by someone without the ledger's signing key"
        )
    return None


# Checking a signature costs several times what re-hashing an entry does. A
# complete check leaves a note, signed with SECRET_KEY and kept in the cache
# (not the database), of the entry it reached and that entry's hash. The next
# check re-hashes the whole chain but checks signatures only after that entry
# — sound because, if that entry still has the same hash and every hash and
# link before it still checks out, nothing up to it has changed since its
# signatures were checked. If that entry's hash differs or it is gone, every
# signature is checked again. ``full=True`` (verify_ledger) ignores the note.
_VERIFIED_SALT = "ledger.chain.verified"
_VERIFIED_SECONDS = 24 * 3600


def _verified_key(fingerprint: str) -> str:
    return f"ledger:verified:{connection.schema_name}:{fingerprint}"


def _verified_mark(fingerprint: str) -> tuple[int, str, str] | None:
    """(sequence, hash, when) of the last complete check's last entry."""
    value = cache.get(_verified_key(fingerprint))
    if not value:
        return None
    try:
        data = signing_core.loads(value, salt=_VERIFIED_SALT)
        return int(data["sequence"]), str(data["hash"]), str(data.get("at", ""))
    except (signing_core.BadSignature, KeyError, TypeError, ValueError):
        return None


def _remember_verified(fingerprint: str, sequence: int, entry_hash: str) -> None:
    value = signing_core.dumps(
        {
            "sequence": sequence,
            "hash": entry_hash,
            "at": timezone.now().astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        },
        salt=_VERIFIED_SALT,
    )
    cache.set(_verified_key(fingerprint), value, _VERIFIED_SECONDS)


def removed_since(*, last: int, sequence: int, when: str) -> str:
    """The message of a chain that ends (at ``last``) before an entry a
    previous check verified (``sequence``, on ``when``)."""
    return _(
        "the chain ends at entry %(last)s: entries removed since the last check "
        "(%(sequence)s was verified on %(when)s)"
    ) % {"last": last, "sequence": sequence, "when": when}


def replaced_since(*, sequence: int, when: str) -> str:
    return _(
        "entry %(sequence)s is not the one verified on %(when)s: the chain was rewritten "
        "at or before it"
    ) % {"sequence": sequence, "when": when}


def verify_chain(
    *, chunk_size: int = 2000, full: bool = False, _noted: tuple | None = None
) -> VerifyResult:
    """Check the whole chain of the current schema, oldest first; stops at the
    first entry that does not match and names it. Every hash and link is
    checked; every signature too with ``full``, otherwise those after the last
    complete check (see above).

    A chain that ends before the entry the last complete check reached (the
    note above), or before the last checkpoint kept outside the database
    (ledger.witness), does not verify either, whatever ``full`` says: entries
    were cut off its end since."""
    key = signing.public_key()
    fingerprint = signing.fingerprint(key)
    noted = _noted or _verified_mark(fingerprint)
    trusted = None if full else noted
    result = VerifyResult(fingerprint=fingerprint)
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
        if head is not None:
            result.backfilled_to = head.signatures_backfilled_to
            result.backfilled_at = head.signatures_backfilled_at
        for entry in LedgerEntry.objects.order_by("sequence").iterator(chunk_size=chunk_size):
            known = trusted is not None and entry.sequence <= trusted[0]
            message = _check_one(
                entry, expected_sequence=expected, prev_hash=prev_hash, key=None if known else key
            )
            if message:
                result.problem = Problem(sequence=entry.sequence, message=message)
                break
            if known and entry.sequence == trusted[0] and entry.hash != trusted[1]:
                break  # changed since the last complete check
            result.checked += 1
            result.last_sequence = entry.sequence
            prev_hash = entry.hash
            expected += 1
        if trusted is not None and (result.problem or result.last_sequence < trusted[0]):
            # A problem, a changed entry, or a chain that stops before the
            # noted entry: check every signature, so the first bad entry is named.
            return verify_chain(chunk_size=chunk_size, full=True, _noted=trusted)
        if (
            result.problem is None
            and head is not None
            and (head.last_sequence != result.last_sequence or head.last_hash != prev_hash)
        ):
            result.problem = Problem(
                sequence=result.last_sequence + 1,
                message=_(
                    "the chain ends at entry %(last)s but its head records entry %(head)s: "
                    "entries at the end were removed"
                )
                % {"last": result.last_sequence, "head": head.last_sequence},
            )
        if result.ok and noted is not None:
            result.problem = _against_noted(result.last_sequence, noted)
        if result.ok:
            from . import checkpoints  # it builds on this module

            result.problem = checkpoints.kept_problem(last_sequence=result.last_sequence)
    if result.ok:
        _remember_verified(fingerprint, result.last_sequence, prev_hash)
    return result


def _against_noted(last_sequence: int, noted: tuple) -> Problem | None:
    """A chain that checks out on its own and ends at ``last_sequence``,
    against the last complete check's note: still holding the entry it
    reached, unchanged?"""
    sequence, entry_hash, when = noted
    if sequence == 0:  # an empty chain was checked: nothing to hold since
        return None
    if last_sequence < sequence:
        message = removed_since(last=last_sequence, sequence=sequence, when=when or "?")
        return Problem(sequence=last_sequence + 1, message=message)
    found = LedgerEntry.objects.filter(sequence=sequence).values_list("hash", flat=True).first()
    if found != entry_hash:
        return Problem(sequence=sequence, message=replaced_since(sequence=sequence, when=when))
    return None


def noted_problem(*, last_sequence: int) -> Problem | None:
    """What is wrong with a chain ending at ``last_sequence`` against the last
    complete check's note (none: nothing noted, or it holds)."""
    noted = _verified_mark(signing.fingerprint(signing.public_key()))
    return None if noted is None else _against_noted(last_sequence, noted)


@dataclass
class ItemEntry:
    entry: LedgerEntry
    ok: bool
    message: str = ""


def verify_entries(entries: list[LedgerEntry]) -> list[ItemEntry]:
    """Check each of ``entries`` (e.g. one item's) on its own: its hash, its
    signature, and its link to the entry just before it in the chain."""
    key = signing.public_key()
    wanted = {e.sequence - 1 for e in entries if e.sequence > 1}
    previous = dict(LedgerEntry.objects.filter(sequence__in=wanted).values_list("sequence", "hash"))
    checked = []
    for entry in entries:
        prev_hash = GENESIS_HASH if entry.sequence == 1 else previous.get(entry.sequence - 1)
        if prev_hash is None:
            message = _("the entry before it (%(n)s) is missing") % {"n": entry.sequence - 1}
        else:
            message = _check_one(
                entry, expected_sequence=entry.sequence, prev_hash=prev_hash, key=key
            )
        checked.append(ItemEntry(entry=entry, ok=message is None, message=message or ""))
    return checked
