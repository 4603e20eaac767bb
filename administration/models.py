"""Support grants and corrections waiting for approval (country schema)."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.triggers import no_truncate


class SupportGrant(models.Model):
    """Time-limited access for a named platform staff member, through an
    account of this country (``user``). The account works while a grant of
    it is valid; the grant expires by itself at ``valid_until``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="support_grants",
        verbose_name=_("support account"),
    )
    staff_username = models.CharField(_("staff member"), max_length=150)
    staff_email = models.EmailField(_("staff e-mail"))
    read_only = models.BooleanField(_("read-only"), default=True)
    valid_until = models.DateTimeField(_("valid until"))
    reason = models.TextField(_("reason"), blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("granted by"),
    )
    granted_at = models.DateTimeField(_("granted"), default=timezone.now)
    revoked_at = models.DateTimeField(_("ended"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )

    class Meta:
        verbose_name = _("support grant")
        verbose_name_plural = _("support grants")
        ordering = ["-granted_at"]
        triggers = [
            pgtrigger.Protect(name="supportgrant_no_delete", operation=pgtrigger.Delete),
            no_truncate("supportgrant_no_truncate"),
        ]

    def __str__(self):
        return f"{self.staff_username} → {self.valid_until:%Y-%m-%d %H:%M}"

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None and self.valid_until > timezone.now()


class PendingCorrection(models.Model):
    """A correction asked for by someone who is not an administrator, in a
    country that wants corrections approved. Applied (through
    stock.services.item_correct) only when an administrator approves it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    item = models.ForeignKey(
        "stock.StockItem",
        on_delete=models.PROTECT,
        related_name="pending_corrections",
        verbose_name=_("item"),
    )
    # {field: new value} as the correction form gave it (JSON-safe).
    changes = models.JSONField(_("changes"))
    # {field: value when asked}: what the approver compares against.
    current = models.JSONField(_("values when asked"), default=dict)
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("asked by"),
    )
    requested_at = models.DateTimeField(_("asked"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("correction waiting for approval")
        verbose_name_plural = _("corrections waiting for approval")
        ordering = ["-requested_at"]
        permissions = [("approve_correction", _("Can approve or reject corrections"))]
        indexes = [models.Index(fields=["status", "-requested_at"], name="admin_pending_status")]
        triggers = [
            pgtrigger.Protect(name="pendingcorrection_no_delete", operation=pgtrigger.Delete),
            no_truncate("pendingcorrection_no_truncate"),
        ]

    def __str__(self):
        return f"{self.item_id} {self.status}"
