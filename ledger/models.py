"""The custody ledger's tables (country schema).

They kept their names from when the ledger lived in custody (custody_ledgerentry,
custody_ledgerhead): moving the models changed no table. Entries can be neither
updated nor deleted (the database refuses both); they are written by
``ledger.chain.append`` only, and each is signed (ledger.signing).

References to items, sites, transfers and stock-takes are plain ids by model
name: the ledger imports none of the apps above it.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.triggers import no_truncate


class HeadFollowsTheChain(pgtrigger.Trigger):
    """The database refuses a head that moves backwards or names an entry that
    is not there: an INSERT or UPDATE of the head must name the chain's genesis
    (sequence 0, no entries yet) or an existing entry, by its sequence and
    hash, at or after where the head was. The application's login can UPDATE
    the head (every append does), so without this it could cut the chain's
    end off by moving the head back; the signed checkpoints catch that
    afterwards, this refuses it. Appends write their entries before the head
    (ledger.chain), so the entry named is always there."""

    when = pgtrigger.Before
    operation = pgtrigger.Insert | pgtrigger.Update
    func = """
    IF TG_OP = 'UPDATE' AND NEW.last_sequence < OLD.last_sequence THEN
        RAISE EXCEPTION 'ledger head may not move backwards (from % to %)',
            OLD.last_sequence, NEW.last_sequence USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.last_sequence = 0 THEN
        IF NEW.last_hash <> repeat('0', 64)
                OR EXISTS (SELECT 1 FROM custody_ledgerentry) THEN
            RAISE EXCEPTION 'ledger head at 0 must be the genesis of an empty chain'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    ELSIF NOT EXISTS (
        SELECT 1 FROM custody_ledgerentry
        WHERE sequence = NEW.last_sequence AND hash = NEW.last_hash
    ) THEN
        RAISE EXCEPTION 'ledger head names entry % with a hash no entry has', NEW.last_sequence
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.last_sequence <> 0 AND EXISTS (
        SELECT 1 FROM custody_ledgerentry WHERE sequence > NEW.last_sequence
    ) THEN
        RAISE EXCEPTION 'ledger head must name the last entry (% is not)', NEW.last_sequence
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
    """


class LedgerHead(models.Model):
    """The end of the chain: one row (id 1), locked FOR UPDATE by every append,
    so entries get gapless sequence numbers and each links to the one before.
    The database keeps it on the chain's last entry (HeadFollowsTheChain) and
    refuses to delete or truncate it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    last_sequence = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    # Entries written before entries were signed got their signature later,
    # once, from an operator's ledger_sign_backfill (never a migration): up to
    # this entry, on that date (who: ledger.witness, outside the database).
    # Shown by the checks; it vouches for nothing by itself.
    signatures_backfilled_to = models.BigIntegerField(default=0)
    signatures_backfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "custody_ledgerhead"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="custody_ledger_head_single")]
        triggers = [
            HeadFollowsTheChain(name="ledgerhead_follows_chain"),
            pgtrigger.Protect(name="ledgerhead_no_delete", operation=pgtrigger.Delete),
            no_truncate("ledgerhead_no_truncate"),
        ]

    def __str__(self):
        return f"{self.last_sequence} {self.last_hash[:12]}"


class LedgerEntry(models.Model):
    """One custody event, hashed together with the previous entry's hash, and
    the hash signed with a key the database never holds.

        The references are plain ids without foreign-key constraints: the entry
        is a self-contained record (its hash covers the ids), and nothing it
        points at may ever block or be blocked by it.
    """

    class Event(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        CORRECTION = "correction", _("Corrected")
        ARCHIVED = "archived", _("Archived")
        DISPATCHED = "dispatched", _("Dispatched in a transfer")
        RECEIVED = "received", _("Received from a transfer")
        DISCREPANCY = "discrepancy", _("Discrepancy raised")
        DISCREPANCY_RESOLVED = "discrepancy_resolved", _("Discrepancy resolved")
        STOCKTAKE_CHECKED = "stocktake_checked", _("Checked in a stock-take")
        STOCKTAKE_MISSING = "stocktake_missing", _("Missing at a stock-take")
        STOCKTAKE_FOUND = "stocktake_found", _("Found again at a stock-take")

    sequence = models.BigIntegerField(_("sequence"), unique=True)
    event = models.CharField(_("event"), max_length=32, choices=Event.choices)
    occurred_at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("who"),
    )
    # The user's name at the time, so the record reads the same if the account changes.
    actor_name = models.CharField(_("who"), max_length=150)
    site = models.ForeignKey(
        "stock.Site",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("where"),
    )
    item = models.ForeignKey(
        "stock.StockItem",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("item"),
    )
    transfer = models.ForeignKey(
        "custody.Transfer",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    stocktake = models.ForeignKey(
        "custody.StockTake",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    payload = models.JSONField(_("what"), default=dict)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)
    # Ed25519 over the hash with the country's ledger key (ledger.signing),
    # base64. Not part of the hash: the chain's formula is unchanged.
    signature = models.CharField(_("signature"), max_length=88)

    class Meta:
        db_table = "custody_ledgerentry"
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["sequence"]
        indexes = [models.Index(fields=["item", "sequence"], name="custody_ledger_item_seq")]
        triggers = [
            pgtrigger.Protect(name="ledgerentry_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(name="ledgerentry_no_update", operation=pgtrigger.Update),
            no_truncate("ledgerentry_no_truncate"),
        ]

    def __str__(self):
        return f"#{self.sequence} {self.event}"
