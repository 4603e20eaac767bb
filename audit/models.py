"""Access log and support-grant summary (see the package docstring for schemas)."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.access import AccessAction
from core.triggers import no_truncate


class AccessEvent(models.Model):
    """One thing a person did or saw. Append-only: the database refuses UPDATE
    and DELETE (pgtrigger Protect triggers, installed in every schema)."""

    # The enum lives in core.access (views declare their action with it; core
    # imports no app). AccessEvent.Action stays its name here.
    Action = AccessAction

    at = models.DateTimeField(_("time"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    # The name at the time (or the name typed in a failed sign-in, which may
    # belong to nobody).
    username = models.CharField(_("username"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    # What a person would search for: the item's SMS number, the user's name.
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    # A plain id, not a foreign key: this table also exists in the public
    # schema, where there are no sites.
    site_id = models.BigIntegerField(_("site"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="audit_event_user_id"),
            models.Index(fields=["action", "-id"], name="audit_event_action_id"),
            models.Index(fields=["site_id", "-id"], name="audit_event_site_id"),
            models.Index(fields=["object_repr", "-id"], name="audit_event_object_id"),
            models.Index(fields=["at"], name="audit_event_at"),
        ]
        triggers = [
            pgtrigger.Protect(name="accessevent_no_update", operation=pgtrigger.Update),
            pgtrigger.Protect(name="accessevent_no_delete", operation=pgtrigger.Delete),
            no_truncate("accessevent_no_truncate"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action}"


class SupportGrantSummary(models.Model):
    """Public schema only: what a platform staff member may see of their own
    support grants (country, until when, read-only or not) — nothing else of
    the country. Written by administration.services in the same transaction
    as the country-side grant."""

    country_code = models.CharField(_("country"), max_length=2)
    country_name = models.CharField(_("country name"), max_length=100)
    country_url = models.CharField(_("address"), max_length=200)
    grant_id = models.BigIntegerField(_("grant"))
    staff_username = models.CharField(_("staff member"), max_length=150, db_index=True)
    support_username = models.CharField(_("support account"), max_length=150)
    read_only = models.BooleanField(_("read-only"), default=True)
    valid_until = models.DateTimeField(_("valid until"))
    revoked_at = models.DateTimeField(_("ended"), null=True, blank=True)
    granted_at = models.DateTimeField(_("granted"), default=timezone.now)

    class Meta:
        verbose_name = _("support grant summary")
        verbose_name_plural = _("support grant summaries")
        ordering = ["-valid_until"]
        constraints = [
            models.UniqueConstraint(
                fields=["country_code", "grant_id"], name="audit_grant_summary_unique"
            )
        ]

    def __str__(self):
        return f"{self.country_code} {self.staff_username} {self.valid_until:%Y-%m-%d}"

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None and self.valid_until > timezone.now()
