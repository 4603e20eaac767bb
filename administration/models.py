"""Support grants, and the permission to approve corrections (country schema)."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.triggers import no_truncate
from stock.models import PendingCorrection


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


class CorrectionApproval(PendingCorrection):
    """Corrections as the approval pages see them. The corrections themselves
    (stock.PendingCorrection) and their approval rule are stock's; approving
    them is an administrator's act, so its permission stays administration's:
    ``administration.approve_correction``, the name roles and custom roles
    hold (it was declared on PendingCorrection when the model lived here)."""

    class Meta:
        proxy = True
        default_permissions = ()
        permissions = [("approve_correction", _("Can approve or reject corrections"))]
        verbose_name = _("correction waiting for approval")
        verbose_name_plural = _("corrections waiting for approval")
