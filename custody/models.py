"""Custody models (country schema): transfers, discrepancies, stock-takes
and the country's custody settings (the custody ledger is the ``ledger`` app).

Nothing here is ever deleted (the database refuses it). Writes go through
custody.services.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.triggers import no_truncate
from stock.models import ItemPhoto, Site, StockItem


def _never_delete(prefix: str) -> list["pgtrigger.Trigger"]:
    """The database refuses DELETE and TRUNCATE."""
    return [
        pgtrigger.Protect(name=f"{prefix}_no_delete", operation=pgtrigger.Delete),
        no_truncate(f"{prefix}_no_truncate"),
    ]


class CustodySettings(models.Model):
    """The country's custody settings: a single row (id 1)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    # A received weight further than this from the dispatched weight raises a
    # discrepancy; scales differ a little from store to store.
    transfer_weight_tolerance_percent = models.DecimalField(
        _("weight tolerance on transfers (%)"),
        max_digits=5,
        decimal_places=2,
        default=1,
        help_text=_(
            "A received weight that differs from the dispatched weight by more than this "
            "raises a discrepancy."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("custody settings")
        verbose_name_plural = _("custody settings")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="custody_settings_single")]

    def __str__(self):
        return f"{self.transfer_weight_tolerance_percent} %"


class Transfer(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        DISPATCHED = "dispatched", _("Dispatched")
        PARTIALLY_RECEIVED = "partially_received", _("Partially received")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

    origin = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="transfers_out", verbose_name=_("from")
    )
    destination = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="transfers_in", verbose_name=_("to")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    reason = models.TextField(_("reason"))
    authority_reference = models.CharField(_("authority reference"), max_length=200)
    seal_numbers = models.CharField(_("seal numbers"), max_length=300, blank=True)
    courier = models.CharField(_("courier"), max_length=200, blank=True)
    vehicle = models.CharField(_("vehicle"), max_length=100, blank=True)
    dispatching_officer = models.CharField(_("dispatching officer"), max_length=150, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("dispatch_transfer", _("Can prepare and dispatch transfers from own sites")),
            ("receive_transfer", _("Can receive transfers at own sites")),
            ("resolve_discrepancy", _("Can resolve custody discrepancies")),
            ("run_stocktake", _("Can run stock-takes")),
            ("verify_ledger", _("Can check the custody ledger")),
        ]
        indexes = [models.Index(fields=["status", "-created_at"], name="custody_transfer_status")]
        triggers = _never_delete("transfer")

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        year = self.created_at.year if self.created_at else 0
        return f"TR-{year}-{self.pk or 0:05d}"

    @property
    def is_open(self) -> bool:
        return self.status in (
            self.Status.DRAFT,
            self.Status.DISPATCHED,
            self.Status.PARTIALLY_RECEIVED,
        )


class TransferItem(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("To be dispatched")
        IN_TRANSIT = "in_transit", _("In transit")
        # Contexts: an item's state, where gendered languages differ from the
        # transfer's status (pt "recebido" / "recebida").
        RECEIVED = "received", pgettext_lazy("state of an item in a transfer", "Received")
        MISSING_REPORTED = "missing_reported", _("Reported missing")
        LOST = "lost", _("Declared missing")
        CANCELLED = "cancelled", pgettext_lazy("state of an item in a transfer", "Cancelled")

    OPEN_STATES = (State.DRAFT, State.IN_TRANSIT, State.MISSING_REPORTED)

    transfer = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, related_name="lines", verbose_name=_("transfer")
    )
    item = models.ForeignKey(
        StockItem, on_delete=models.PROTECT, related_name="transfer_lines", verbose_name=_("item")
    )
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    # True while the line is in OPEN_STATES: the partial unique index below
    # then keeps an item in at most one open transfer, even under concurrency.
    open = models.BooleanField(default=True)
    weight_dispatched = models.DecimalField(
        _("weight dispatched (kg)"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    present = models.BooleanField(_("present"), null=True)
    seal_intact = models.BooleanField(_("seal intact"), null=True)
    weight_received = models.DecimalField(
        _("weight received (kg)"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("transfer item")
        verbose_name_plural = _("transfer items")
        ordering = ["transfer", "id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "item"], name="custody_transfer_item"),
            models.UniqueConstraint(
                fields=["item"], condition=Q(open=True), name="custody_one_open_transfer"
            ),
        ]
        triggers = _never_delete("transferitem")

    def __str__(self):
        return f"{self.transfer_id}/{self.item_id}"


class Discrepancy(models.Model):
    class Kind(models.TextChoices):
        WEIGHT = "weight", _("Weight differs")
        SEAL = "seal", _("Seal broken")
        MISSING_ITEM = "missing_item", _("Item missing")

    class Resolution(models.TextChoices):
        ACCEPT_NEW_WEIGHT = "accept_new_weight", _("Accept the new weight")
        KEEP_WEIGHT = "keep_weight", _("Keep the recorded weight")
        ACCEPTED = "accepted", _("Accepted after inquiry")
        MARK_MISSING = "mark_missing", _("Declare the item missing")
        FOUND = "found", _("Found later: received at the destination")

    # Which resolutions make sense for which kind.
    CHOICES_BY_KIND = {
        Kind.WEIGHT: (Resolution.ACCEPT_NEW_WEIGHT, Resolution.KEEP_WEIGHT),
        Kind.SEAL: (Resolution.ACCEPTED,),
        Kind.MISSING_ITEM: (Resolution.MARK_MISSING, Resolution.FOUND),
    }

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="discrepancies")
    line = models.ForeignKey(TransferItem, on_delete=models.PROTECT, related_name="discrepancies")
    item = models.ForeignKey(StockItem, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    details = models.JSONField(_("details"), default=dict)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(_("raised"), auto_now_add=True)
    resolution = models.CharField(
        _("resolution"), max_length=20, choices=Resolution.choices, blank=True
    )
    resolution_note = models.TextField(_("resolution note"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("discrepancy")
        verbose_name_plural = _("discrepancies")
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["resolved_at"], name="custody_discrepancy_open")]
        triggers = _never_delete("discrepancy")

    def __str__(self):
        return f"{self.transfer_id} {self.kind}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class StockTake(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        SIGNED_OFF = "signed_off", _("Signed off")

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="stocktakes", verbose_name=_("site")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    notes = models.TextField(_("notes"), blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    signed_off_at = models.DateTimeField(_("signed off"), null=True, blank=True)
    sign_off_note = models.TextField(_("sign-off note"), blank=True)

    class Meta:
        verbose_name = _("stock-take")
        verbose_name_plural = _("stock-takes")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site"], condition=Q(status="open"), name="custody_one_open_stocktake"
            )
        ]
        triggers = _never_delete("stocktake")

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        year = self.opened_at.year if self.opened_at else 0
        return f"ST-{year}-{self.pk or 0:05d}"


class StockTakeLine(models.Model):
    class Result(models.TextChoices):
        UNCHECKED = "unchecked", _("Not checked yet")
        FOUND = "found", _("Found")
        DAMAGED = "damaged", _("Found damaged")
        MISSING = "missing", _("Missing")

    class Outcome(models.TextChoices):
        NONE = "", _("No change")
        MARKED_MISSING = "marked_missing", _("Now recorded as missing")
        FOUND_AGAIN = "found_again", _("Back in stock")
        MOVED = "moved", _("Left the site during the stock-take")

    stocktake = models.ForeignKey(StockTake, on_delete=models.PROTECT, related_name="lines")
    item = models.ForeignKey(StockItem, on_delete=models.PROTECT, related_name="stocktake_lines")
    # False for items found without a record and registered during the stock-take.
    expected = models.BooleanField(_("expected"), default=True)
    status_at_opening = models.CharField(max_length=16, choices=StockItem.Status.choices)
    expected_weight = models.DecimalField(
        _("expected weight (kg)"), max_digits=10, decimal_places=3
    )
    result = models.CharField(
        _("result"), max_length=16, choices=Result.choices, default=Result.UNCHECKED
    )
    weight_measured = models.DecimalField(
        _("weight measured (kg)"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    photo = models.ForeignKey(
        ItemPhoto, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("stock-take line")
        verbose_name_plural = _("stock-take lines")
        ordering = ["stocktake", "id"]
        constraints = [
            models.UniqueConstraint(fields=["stocktake", "item"], name="custody_stocktake_item")
        ]
        triggers = _never_delete("stocktakeline")

    def __str__(self):
        return f"{self.stocktake_id}/{self.item_id}"

    @property
    def weight_difference(self):
        if self.weight_measured is None:
            return None
        return self.weight_measured - self.expected_weight
