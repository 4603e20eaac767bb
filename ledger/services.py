"""Ledger writes that are not appends (country schema): the daily e-mail of a
signed checkpoint to the country's administrators.

The e-mail is one of the copies of the checkpoint kept outside the database
(ledger.checkpoints): an administrator's mailbox holds where the chain ended
each day, so cutting entries off the end later is caught by
``verify_ledger --checkpoint`` with any of them.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from tenants.models import Country

from . import chain, checkpoints, signing, witness
from .models import LedgerEntry, LedgerHead


def administrators_emails() -> list[str]:
    """Addresses of the current country's active users who manage users."""
    admins = (
        User.objects.filter(is_active=True)
        .filter(
            Q(groups__permissions__codename="manage_users")
            | Q(user_permissions__codename="manage_users")
            | Q(is_superuser=True)
        )
        .exclude(email="")
        .distinct()
    )
    return sorted(set(admins.values_list("email", flat=True)))


def checkpoint_mail() -> int:
    """E-mail a checkpoint of the current country's ledger, with its JSON file,
    to its administrators; returns the number of recipients. A ledger whose end
    does not verify gets an e-mail saying so instead (no checkpoint is signed
    for it)."""
    country = Country.objects.get(schema_name=connection.schema_name)
    recipients = administrators_emails()
    if not recipients:
        return 0
    try:
        checkpoint = checkpoints.take_and_keep()
    except checkpoints.CheckpointUnavailable:
        checkpoint = None
    with translation.override(country.default_language or settings.LANGUAGE_CODE):
        if checkpoint is None:
            subject = _("%(country)s: the custody ledger does not verify") % {
                "country": country.name
            }
            body = _(
                "No checkpoint of the custody ledger of %(country)s could be signed today: "
                "the end of the chain does not verify. Run the Ledger check (or "
                "manage.py verify_ledger --country %(code)s) to see which entry is wrong.\n"
            ) % {"country": country.name, "code": country.code}
            message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        else:
            subject = _("%(country)s: custody ledger checkpoint %(sequence)s") % {
                "country": country.name,
                "sequence": checkpoint.sequence,
            }
            body = _(
                "The custody ledger of %(country)s ended at entry %(sequence)s on %(time)s "
                "(UTC). Keep this e-mail: it is signed evidence of that.\n\n"
                "If entries at the end of the ledger were ever removed, this checkpoint "
                "shows it. To check it later:\n\n"
                "    python manage.py verify_ledger --checkpoint FILE\n\n"
                "with the attached file, or paste the checkpoint below on the Ledger check "
                "page.\n\n%(token)s\n\n"
                "Ledger signing key of %(country)s (Ed25519, base64): %(key)s\n"
                "Fingerprint: %(fingerprint)s\n"
            ) % {
                "country": country.name,
                "sequence": checkpoint.sequence,
                "time": checkpoint.time_text,
                "token": checkpoint.token(),
                "key": signing.public_key_text(),
                "fingerprint": signing.fingerprint(),
            }
            message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
            message.attach(checkpoint.filename, checkpoint.as_json(), "application/json")
    message.send()
    return len(recipients)


# --- Signing entries written before signing existed -----------------------------------
#
# Once, by an operator who holds the key, never by a migration: a migration
# runs again whenever its row in django_migrations is deleted, and someone
# with the database owner's password (not the key) could then rewrite entries,
# drop the signatures and have the next routine migrate sign the rewritten
# chain. The command shows what it would sign and signs only when told to, and
# refuses whenever the ledger shows any sign of having been signed before.

_NO_UPDATE_TRIGGER = "ledgerentry_no_update"


@dataclass
class BackfillPlan:
    entries: int = 0  # in the chain
    sign_to: int = 0  # entries 1..sign_to check out and would be signed
    stop: str = ""  # why signing stops before the end
    refusals: list[str] = field(default_factory=list)  # signs of an earlier signing

    @property
    def refused(self) -> bool:
        return bool(self.refusals)


def _signed_before() -> list[str]:
    """Every sign that this country's ledger was signed before."""
    signs = []
    signed = LedgerEntry.objects.exclude(signature="").order_by("sequence")
    first = signed.values_list("sequence", flat=True).first()
    if first is not None:
        signs.append(
            _("%(count)s entries already carry a signature (the first: %(first)s).")
            % {"count": signed.count(), "first": first}
        )
    head = LedgerHead.objects.filter(pk=1).first()
    if head is not None and (head.signatures_backfilled_to or head.signatures_backfilled_at):
        signs.append(
            _("The ledger's head records an earlier signing (up to entry %(to)s).")
            % {"to": head.signatures_backfilled_to}
        )
    record = witness.backfill()
    if record:
        signs.append(
            _("Entries 1 to %(to)s were signed on %(at)s by %(by)s (kept outside the database).")
            % {"to": record.get("to"), "at": record.get("at"), "by": record.get("by")}
        )
    kept = witness.recorded_checkpoint()
    if kept:
        signs.append(
            _("A signed checkpoint of entry %(sequence)s (%(at)s) was kept outside the database.")
            % {"sequence": kept.get("sequence"), "at": kept.get("taken_at")}
        )
    made = signing.key_made_at()
    if made is not None:
        late = LedgerEntry.objects.filter(occurred_at__gt=made).order_by("sequence").first()
        if late is not None:
            signs.append(
                _(
                    "Entry %(sequence)s was written after the signing key was made (%(made)s): "
                    "SMS signed it when it wrote it."
                )
                % {"sequence": late.sequence, "made": made.strftime("%Y-%m-%d %H:%M UTC")}
            )
    return signs


def _walk(on_entry=None) -> tuple[int, int, str]:
    """Walk the chain as verify_ledger does (sequence, link, hash): (entries,
    last that checks out, why it stops). ``on_entry`` gets each good entry."""
    expected, prev_hash, last_good, stop = 1, chain.GENESIS_HASH, 0, ""
    count = 0
    for entry in LedgerEntry.objects.order_by("sequence").iterator(chunk_size=2000):
        count += 1
        if stop:
            continue
        message = chain._check_one(entry, expected_sequence=expected, prev_hash=prev_hash, key=None)
        if message:
            stop = _("entry %(sequence)s: %(message)s") % {
                "sequence": entry.sequence,
                "message": message,
            }
            continue
        if on_entry is not None:
            on_entry(entry)
        last_good, prev_hash, expected = entry.sequence, entry.hash, expected + 1
    return count, last_good, stop


def backfill_plan() -> BackfillPlan:
    """What ``backfill_sign`` would do in the current country, and whether it
    refuses."""
    plan = BackfillPlan(refusals=_signed_before())
    plan.entries, plan.sign_to, plan.stop = _walk()
    return plan


def backfill_sign(*, by: str) -> BackfillPlan:
    """Sign the entries that check out, from the first, in the current country;
    record up to where, when and by whom (the head, and outside the database).
    Must run as the database owner (the never-update trigger is switched off
    for this transaction only). Signs nothing when the plan refuses."""
    plan = backfill_plan()
    if plan.refused or not plan.sign_to:
        return plan
    pgid = next(
        t.get_pgid(LedgerEntry) for t in LedgerEntry._meta.triggers if t.name == _NO_UPDATE_TRIGGER
    )
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE custody_ledgerentry DISABLE TRIGGER {pgid}")
        batch = []

        def sign(entry):
            batch.append((signing.sign_entry(entry.hash), entry.pk))
            if len(batch) >= 2000:
                cursor.executemany(
                    "UPDATE custody_ledgerentry SET signature = %s WHERE id = %s", batch
                )
                batch.clear()

        _, last, _stop = _walk(sign)
        if batch:
            cursor.executemany("UPDATE custody_ledgerentry SET signature = %s WHERE id = %s", batch)
        cursor.execute(f"ALTER TABLE custody_ledgerentry ENABLE TRIGGER {pgid}")
        LedgerHead.objects.filter(pk=1).update(
            signatures_backfilled_to=last, signatures_backfilled_at=now
        )
    witness.record_backfill(to=last, at=now.strftime("%Y-%m-%d %H:%M UTC"), by=by)
    plan.sign_to = last
    return plan
