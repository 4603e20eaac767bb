"""Signed checkpoints of the custody ledger (country schema): where the chain
ended at a given time, signed with the country's ledger key.

Signatures stop anyone without the key from rewriting entries, but not from
cutting entries off the end and moving the head back: the shorter chain still
verifies. A checkpoint taken before the cut and kept outside the database
catches it — the chain no longer contains the checkpoint's entry, or holds
another entry under its number. So checkpoints leave the database: printed
on every PDF SMS issues, e-mailed daily to the country's administrators,
downloadable from the Ledger check page; ``verify_ledger --checkpoint`` and
the same page check one.

A checkpoint reads as one line of text (the *token*), whose fields are
separated by white space so that a copy from a PDF footer, with its line
breaks, still parses::

    SMS-LEDGER-CHECKPOINT-1 XA 1234 2026-11-27T20:49:05Z <hash, 64 hex> <signature, base64>

or as the JSON file of the download and the e-mail (the same fields, plus
the public key and its fingerprint).
"""

import dataclasses
import datetime
import json
import re
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import signing, witness
from .chain import (
    GENESIS_HASH,
    Problem,
    VerifyResult,
    compute_hash,
    noted_problem,
    removed_since,
    replaced_since,
    verify_chain,
)
from .models import LedgerEntry, LedgerHead

MARK = "SMS-LEDGER-CHECKPOINT-1"
FORMAT = "sms-ledger-checkpoint/1"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class CheckpointInvalid(ValueError):
    """The text is not a checkpoint (the message says why)."""


class CheckpointUnavailable(RuntimeError):
    """The chain's end does not verify, so no checkpoint is signed for it."""


@dataclass(frozen=True)
class Checkpoint:
    country: str  # ISO code, upper case
    sequence: int
    hash: str
    taken_at: datetime.datetime  # UTC, whole seconds
    signature: str = ""

    @property
    def time_text(self) -> str:
        return self.taken_at.astimezone(datetime.UTC).strftime(_TIME_FORMAT)

    def signed_text(self) -> str:
        return f"{self.country}\n{self.sequence}\n{self.hash}\n{self.time_text}"

    def token(self) -> str:
        return " ".join(
            [MARK, self.country, str(self.sequence), self.time_text, self.hash, self.signature]
        )

    def token_lines(self) -> tuple[str, str]:
        """The token over two lines (for a page footer), split between fields."""
        first = " ".join([MARK, self.country, str(self.sequence), self.time_text, self.hash])
        return first, self.signature

    def as_dict(self) -> dict:
        key = signing.public_key(self.country.lower())
        return {
            "format": FORMAT,
            "country": self.country,
            "sequence": self.sequence,
            "hash": self.hash,
            "taken_at": self.time_text,
            "signature": self.signature,
            "public_key": signing.public_key_text(key),
            "key_fingerprint": signing.fingerprint(key),
            "token": self.token(),
        }

    def as_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2) + "\n"

    @property
    def filename(self) -> str:
        return f"ledger-checkpoint-{self.country}-{self.sequence}.json"


def _country_code() -> str:
    return connection.schema_name.upper()


def take() -> Checkpoint:
    """Sign where the current country's chain ends now.

    Signs only an end it can vouch for: the head must name the last entry,
    whose hash and signature check out. Otherwise CheckpointUnavailable
    (verify_ledger then says what is wrong)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            # One snapshot: an append between the two reads is not a mismatch.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        head = LedgerHead.objects.filter(pk=1).first()
        last = LedgerEntry.objects.order_by("-sequence").first()
    sequence, last_hash = (head.last_sequence, head.last_hash) if head else (0, GENESIS_HASH)
    if last is None:
        consistent = sequence == 0 and last_hash == GENESIS_HASH
    else:
        consistent = (
            last.sequence == sequence
            and last.hash == last_hash
            and compute_hash(last) == last.hash
            and signing.entry_signature_valid(last.hash, last.signature, key=signing.public_key())
        )
    if (
        not consistent
        or kept_problem(last_sequence=sequence) is not None
        or noted_problem(last_sequence=sequence) is not None
    ):
        # Never sign an end before the last checkpoint kept or the last
        # complete check: that would vouch for a chain cut since.
        raise CheckpointUnavailable(_("the end of the custody ledger does not verify"))
    unsigned = Checkpoint(
        country=_country_code(),
        sequence=sequence,
        hash=last_hash,
        taken_at=timezone.now().replace(microsecond=0),
    )
    signature = signing.sign(signing.CHECKPOINT_CONTEXT, unsigned.signed_text())
    return dataclasses.replace(unsigned, signature=signature)


def kept() -> Checkpoint | None:
    """The last checkpoint kept outside the database (ledger.witness), if any."""
    fields = witness.recorded_checkpoint()
    if not fields:
        return None
    try:
        return parse(json.dumps({"format": FORMAT, **fields}))
    except CheckpointInvalid:
        return None


def keep(checkpoint: Checkpoint) -> bool:
    """Keep ``checkpoint`` outside the database as the last one issued (the
    record only moves forward)."""
    return witness.record_checkpoint(checkpoint.as_dict())


def take_and_keep() -> Checkpoint:
    checkpoint = take()
    keep(checkpoint)
    return checkpoint


def kept_problem(*, last_sequence: int) -> Problem | None:
    """What is wrong with a chain ending at ``last_sequence`` (its own entries
    checked) against the last kept checkpoint: cut before it, or another entry
    under its number. None when there is no kept checkpoint or it holds."""
    checkpoint = kept()
    if checkpoint is None:
        return None
    when = checkpoint.time_text.replace("T", " ").replace("Z", " UTC")
    if checkpoint.country != _country_code() or not signing.valid(
        signing.CHECKPOINT_CONTEXT,
        checkpoint.signed_text(),
        checkpoint.signature,
        key=signing.public_key(),
    ):
        return Problem(
            sequence=checkpoint.sequence,
            message=_(
                "the checkpoint kept from the last check (entry %(sequence)s) does not carry "
                "this country's signature"
            )
            % {"sequence": checkpoint.sequence},
        )
    if checkpoint.sequence == 0:
        return None
    if last_sequence < checkpoint.sequence:
        return Problem(
            sequence=last_sequence + 1,
            message=removed_since(last=last_sequence, sequence=checkpoint.sequence, when=when),
        )
    found = (
        LedgerEntry.objects.filter(sequence=checkpoint.sequence)
        .values_list("hash", flat=True)
        .first()
    )
    if found != checkpoint.hash:
        return Problem(
            sequence=checkpoint.sequence,
            message=replaced_since(sequence=checkpoint.sequence, when=when),
        )
    return None


@dataclass(frozen=True)
class Unavailable:
    """No checkpoint: the ledger's end did not verify (a document says so)."""

    reason: str


def take_for_document() -> Checkpoint | Unavailable:
    """A checkpoint to print on a document, or Unavailable when the ledger's
    end does not verify (the document then says so instead of failing)."""
    try:
        return take()
    except CheckpointUnavailable as exc:
        return Unavailable(reason=str(exc))


def parse(text: str) -> Checkpoint:
    """A checkpoint from its token (anywhere in ``text``, fields separated by
    any white space, line breaks included) or from its JSON file."""
    text = (text or "").strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
            fields = [
                data["country"],
                str(data["sequence"]),
                data["taken_at"],
                data["hash"],
                data["signature"],
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointInvalid(_("This is not a ledger checkpoint file.")) from exc
        if data.get("format") != FORMAT:
            raise CheckpointInvalid(_("This is not a ledger checkpoint file."))
    else:
        start = text.find(MARK)
        if start < 0:
            raise CheckpointInvalid(
                _("No ledger checkpoint found: it starts with %(mark)s.") % {"mark": MARK}
            )
        fields = text[start + len(MARK) :].split()[:5]
    if len(fields) < 5:
        raise CheckpointInvalid(_("The checkpoint is incomplete."))
    country, sequence, taken_at, entry_hash, signature = fields
    try:
        when = datetime.datetime.strptime(taken_at, _TIME_FORMAT).replace(tzinfo=datetime.UTC)
        number = int(sequence)
    except ValueError as exc:
        raise CheckpointInvalid(_("The checkpoint's number or time is not readable.")) from exc
    if not re.fullmatch(r"[A-Z]{2,3}", country) or not re.fullmatch(r"[0-9a-f]{64}", entry_hash):
        raise CheckpointInvalid(_("The checkpoint's country or hash is not readable."))
    return Checkpoint(
        country=country, sequence=number, hash=entry_hash, taken_at=when, signature=signature
    )


@dataclass
class CheckpointResult:
    checkpoint: Checkpoint
    contained: bool  # the chain still holds the checkpoint's entry, unchanged
    message: str
    chain: VerifyResult | None = None  # the whole chain's check

    @property
    def ok(self) -> bool:
        return self.contained and self.chain is not None and self.chain.ok


def check(checkpoint: Checkpoint, *, full: bool = False) -> CheckpointResult:
    """Does the current country's chain still contain ``checkpoint``? The
    whole chain is checked too (``full``: every signature, see verify_chain)."""

    def refused(message):
        return CheckpointResult(checkpoint=checkpoint, contained=False, message=message)

    if checkpoint.country != _country_code():
        return refused(
            _("This checkpoint is for country %(other)s, not %(here)s.")
            % {"other": checkpoint.country, "here": _country_code()}
        )
    if not signing.valid(
        signing.CHECKPOINT_CONTEXT,
        checkpoint.signed_text(),
        checkpoint.signature,
        key=signing.public_key(),
    ):
        return refused(
            _(
                "The checkpoint's signature does not match: it was not issued with this "
                "country's ledger key, or it was altered."
            )
        )
    chain = verify_chain(full=full)
    entry = LedgerEntry.objects.filter(sequence=checkpoint.sequence).first()
    last = LedgerEntry.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    values = {"sequence": checkpoint.sequence, "time": checkpoint.time_text, "last": last or 0}
    if checkpoint.sequence == 0 and checkpoint.hash == GENESIS_HASH:
        contained, message = True, _("The checkpoint was taken before the first entry.")
    elif entry is None:
        contained = False
        message = (
            _(
                "The chain no longer contains checkpoint %(sequence)s (taken %(time)s): it "
                "ends at entry %(last)s. Entries at the end were removed."
            )
            % values
        )
    elif entry.hash != checkpoint.hash:
        contained = False
        message = (
            _(
                "Entry %(sequence)s is not the one checkpoint %(sequence)s (taken %(time)s) "
                "recorded: the chain was rewritten at or before it."
            )
            % values
        )
    else:
        contained = True
        message = (
            _("The chain still contains checkpoint %(sequence)s (taken %(time)s), unchanged.")
            % values
        )
    return CheckpointResult(
        checkpoint=checkpoint, contained=contained, message=message, chain=chain
    )
