"""ODK Central connection, form versions, app users, entity mapping and the
submissions pulled from Central (country schema: each country has its own
Central project, and nothing here is shared between countries).

Submission is keyed on Central's ``__id`` (unique): whatever happens to a sync
run, a submission is stored once and registers at most one item.
"""

import uuid

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.triggers import no_truncate


class CentralConnection(models.Model):
    """The country's ODK Central account and project (one row per country)."""

    base_url = models.URLField(_("Central URL"), help_text=_("e.g. https://central.example.org"))
    username = models.CharField(_("Central account (e-mail)"), max_length=254)
    # Fernet token (odk.crypto); the plain password is never stored.
    password_encrypted = models.TextField(_("encrypted password"))
    project_id = models.PositiveIntegerField(_("Central project id"), null=True, blank=True)
    project_name = models.CharField(_("project name"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    last_sync_error = models.TextField(_("last sync error"), blank=True)
    # The last run's report (odk.sync.SyncReport as a dict), for the ODK page.
    last_sync_report = models.JSONField(_("last sync report"), default=dict, blank=True)

    class Meta:
        verbose_name = _("ODK Central connection")
        verbose_name_plural = _("ODK Central connections")
        permissions = [("manage_odk", _("Can configure ODK Central and review ODK submissions"))]

    def __str__(self):
        return self.base_url


class FormVersion(models.Model):
    """One generated version of one of the country's forms."""

    class Kind(models.TextChoices):
        REGISTER = "register", _("Register item")
        STOCKTAKE = "stocktake", _("Stock-take check")

    kind = models.CharField(_("form"), max_length=16, choices=Kind.choices)
    xml_form_id = models.CharField(_("form id"), max_length=64)
    # Derived from a hash of the definitions: same definitions, same version.
    version = models.CharField(_("version"), max_length=32)
    xform = models.TextField(_("XForm"))
    created_at = models.DateTimeField(_("generated"), auto_now_add=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        verbose_name = _("form version")
        verbose_name_plural = _("form versions")
        ordering = ["kind", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="odk_form_version_unique")
        ]

    def __str__(self):
        return f"{self.xml_form_id} {self.version}"


class AppUser(models.Model):
    """A Central app user made for one store manager (what Collect signs in as)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="odk_app_user"
    )
    central_id = models.PositiveIntegerField(_("Central app user id"), unique=True)
    display_name = models.CharField(_("name in Central"), max_length=200)
    # The app user's token is a credential (it is inside the QR code): encrypted.
    token_encrypted = models.TextField(_("encrypted token"))
    assigned_forms = models.JSONField(_("assigned forms"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("ODK app user")
        verbose_name_plural = _("ODK app users")
        ordering = ["display_name"]

    def __str__(self):
        return self.display_name


class QrView(models.Model):
    """Who looked at an app user's Collect QR code (it carries a credential).

    Kept here because the audit app does not exist yet; see odk.services.qr_view_record.
    """

    app_user = models.ForeignKey(AppUser, on_delete=models.PROTECT, related_name="qr_views")
    viewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    viewed_at = models.DateTimeField(_("viewed"), auto_now_add=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("QR code view")
        verbose_name_plural = _("QR code views")
        ordering = ["-viewed_at"]

    def __str__(self):
        return f"{self.app_user} {self.viewed_at:%Y-%m-%d %H:%M}"


class ItemEntity(models.Model):
    """The entity of the *items* entity list that stands for one stock item."""

    item = models.OneToOneField("stock.StockItem", on_delete=models.PROTECT, related_name="+")
    # Central wants version 4 UUIDs for entities.
    entity_uuid = models.UUIDField(_("entity UUID"), unique=True, default=uuid.uuid4)
    # What Central holds (label + properties), to push only what changed.
    pushed = models.JSONField(_("pushed values"), default=dict)
    in_central = models.BooleanField(_("in Central"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("item entity")
        verbose_name_plural = _("item entities")

    def __str__(self):
        return str(self.entity_uuid)


class SyncState(models.Model):
    """Where the sync of one form stands."""

    xml_form_id = models.CharField(_("form id"), max_length=64, unique=True)
    # Central's __system/updatedAt of the newest submission fully stored by a
    # complete pass; the next pass asks for everything updated since (>=).
    watermark = models.DateTimeField(_("watermark"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("sync state")
        verbose_name_plural = _("sync states")

    def __str__(self):
        return self.xml_form_id


class Submission(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be processed")
        PROCESSED = "processed", _("Processed")
        NEEDS_REVIEW = "needs_review", _("Needs review")
        REJECTED = "rejected", _("Rejected")
        DELETED = "deleted", _("Deleted in Central")

    # Central's __id: the same across edits.
    central_id = models.CharField(_("submission id"), max_length=100, unique=True)
    xml_form_id = models.CharField(_("form id"), max_length=64)
    # meta/instanceID of the latest version seen, and of the version applied.
    instance_id = models.CharField(_("instance id"), max_length=100)
    processed_instance_id = models.CharField(_("instance id processed"), max_length=100, blank=True)
    submitter_id = models.PositiveIntegerField(_("Central submitter id"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    central_updated_at = models.DateTimeField(_("updated in Central"), null=True, blank=True)
    edits = models.PositiveIntegerField(_("edits in Central"), default=0)
    attachments_expected = models.PositiveIntegerField(default=0)
    attachments_present = models.PositiveIntegerField(default=0)
    # The OData row as Central sent it (the latest version).
    data = models.JSONField(_("submitted values"), default=dict)
    # Values an administrator corrected in the review queue (override `data`).
    corrections = models.JSONField(_("corrected values"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # {field: [messages]} in plain words, shown in the review queue.
    errors = models.JSONField(_("problems"), default=dict, blank=True)
    item = models.ForeignKey(
        "stock.StockItem", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    # Who made the latest edit in Central ({"id": Central actor id, "name":
    # display name}): edits are made by Central web users (Collect can't edit
    # a sent form), read from the submission's versions.
    edited_by = models.JSONField(_("edited in Central by"), default=dict, blank=True)
    # The review state we want Central to show, and the one it last accepted.
    review_wanted = models.CharField(max_length=16, blank=True)
    review_pushed = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("ODK submission")
        verbose_name_plural = _("ODK submissions")
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["status"], name="odk_submission_status"),
            models.Index(fields=["xml_form_id", "status"], name="odk_submission_form_status"),
        ]
        # Nothing lost: a submission is never deleted, only rejected with a reason.
        triggers = [
            pgtrigger.Protect(name="odk_submission_no_delete", operation=pgtrigger.Delete),
            no_truncate("odk_submission_no_truncate"),
        ]

    def __str__(self):
        return self.central_id

    @property
    def attachments_missing(self) -> bool:
        return self.attachments_present < self.attachments_expected


def attachment_upload_to(attachment: "SubmissionAttachment", filename: str) -> str:
    return f"odk/{attachment.submission_id}/{uuid.uuid4().hex}-{filename}"


class SubmissionAttachment(models.Model):
    """A file of a submission, downloaded byte for byte with its SHA-256."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="attachments")
    name = models.CharField(_("name"), max_length=255)
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=400)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"))
    downloaded_at = models.DateTimeField(_("downloaded"), auto_now_add=True)
    # The item photo made from it, once it has been added to the item.
    photo = models.ForeignKey(
        "stock.ItemPhoto", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("submission attachment")
        verbose_name_plural = _("submission attachments")
        constraints = [
            models.UniqueConstraint(fields=["submission", "name"], name="odk_attachment_unique")
        ]
        triggers = [
            pgtrigger.Protect(name="odk_attachment_no_delete", operation=pgtrigger.Delete),
            no_truncate("odk_attachment_no_truncate"),
        ]

    def __str__(self):
        return self.name


class StockCheck(models.Model):
    """One item checked with the Stock-take check form, as applied.

    The check itself is recorded in the custody stock-take open at the site
    (``stocktake_line``, through custody.services.stocktake_check); this row
    says which Collect submission it came from. Rows made before stock-takes
    existed have no stock-take.
    """

    submission = models.OneToOneField(
        Submission, on_delete=models.PROTECT, related_name="stock_check"
    )
    item = models.ForeignKey("stock.StockItem", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("stock.Site", on_delete=models.PROTECT, related_name="+")
    found = models.BooleanField(_("found"))
    damaged = models.BooleanField(_("damaged"), default=False)
    weight_kg = models.DecimalField(
        _("weight (kg)"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField(_("checked"), auto_now_add=True)
    stocktake = models.ForeignKey(
        "custody.StockTake",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("stock-take"),
    )
    stocktake_line = models.ForeignKey(
        "custody.StockTakeLine", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("stock check")
        verbose_name_plural = _("stock checks")

    def __str__(self):
        return f"{self.item_id} {self.found}"
