"""The register import's records (country schema).

An ImportRun is one spreadsheet (and its photo ZIP) brought in: the file is
kept with its SHA-256, the column and store mapping it was read with, each
check (dry run) and the import itself, with their reports. An ImportedRow
ties each item the import created to its source: the file's SHA-256, the
sheet, the row number and the row as it was; its ``row_key`` (the row's
content, hashed) is what makes an import idempotent: a row already imported
is never imported again, from this file or a corrected one.

ColumnMapping and StoreMapping are the mapping step's answers, kept for the
country's next file. Runs and imported rows are never deleted (pgtrigger);
mappings are answers a person may change.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.triggers import no_truncate


def import_upload_to(run: "ImportRun", filename: str) -> str:
    # The storage adds countries/<schema>/; never served by URL, only by
    # imports.views (permission check, access log).
    return f"imports/{run.requested_at:%Y/%m}/{run.sha256[:16]}-{filename}"


class ImportRun(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded: check the columns")
        QUEUED = "queued", _("Waiting")
        CHECKING = "checking", _("Being checked")
        CHECKED = "checked", _("Checked")
        IMPORTING = "importing", _("Being imported")
        DONE = "done", _("Imported")
        REFUSED = "refused", _("Not imported: rows refused")
        FAILED = "failed", _("Failed")

    file = models.FileField(_("file"), upload_to=import_upload_to, max_length=255)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    photos = models.FileField(
        _("photos (ZIP)"), upload_to=import_upload_to, max_length=255, blank=True
    )
    photos_name = models.CharField(_("photos file name"), max_length=255, blank=True)
    photos_sha256 = models.CharField(_("photos SHA-256"), max_length=64, blank=True)
    # {header as in the file: field key, "notes" or "ignore"}; {store name: site id}.
    columns = models.JSONField(_("columns"), default=dict, blank=True)
    stores = models.JSONField(_("stores"), default=dict, blank=True)
    # What the first reading found: headers, unknown store names, row count.
    analysis = models.JSONField(_("analysis"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.UPLOADED
    )
    valid_only = models.BooleanField(_("valid rows only"), default=False)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_valid = models.PositiveIntegerField(_("valid rows"), default=0)
    rows_refused = models.PositiveIntegerField(_("refused rows"), default=0)
    rows_known = models.PositiveIntegerField(_("rows already imported"), default=0)
    rows_created = models.PositiveIntegerField(_("items created"), default=0)
    # [{"row": n, "errors": {column header or "": [messages]}, "warnings": [...]}]
    report = models.JSONField(_("report"), default=list, blank=True)
    report_file = models.FileField(
        _("checked file"), upload_to=import_upload_to, max_length=255, blank=True
    )
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    requested_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)
    finished_at = models.DateTimeField(_("imported"), null=True, blank=True)

    class Meta:
        verbose_name = _("register import")
        verbose_name_plural = _("register imports")
        ordering = ["-requested_at", "-id"]
        permissions = [
            ("import_register", _("Can import a register from a spreadsheet")),
        ]
        triggers = [
            pgtrigger.Protect(name="importrun_no_delete", operation=pgtrigger.Delete),
            no_truncate("importrun_no_truncate"),
        ]

    def __str__(self):
        return self.file_name

    @property
    def is_busy(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.CHECKING, self.Status.IMPORTING)


class ImportedRow(models.Model):
    """One item the import created, and the row it came from."""

    run = models.ForeignKey(
        ImportRun, on_delete=models.PROTECT, related_name="rows", verbose_name=_("import")
    )
    item = models.OneToOneField(
        "stock.StockItem",
        on_delete=models.PROTECT,
        related_name="imported_from",
        verbose_name=_("item"),
    )
    # SHA-256 of the row's content (and its occurrence among identical rows).
    row_key = models.CharField(_("row key"), max_length=64, unique=True)
    sha256 = models.CharField(_("file SHA-256"), max_length=64)
    sheet = models.CharField(_("sheet"), max_length=100)
    row_number = models.PositiveIntegerField(_("row"))
    # {header: value as read}: the row as it was in the old register.
    values = models.JSONField(_("row as it was"), default=dict)

    class Meta:
        verbose_name = _("imported row")
        verbose_name_plural = _("imported rows")
        ordering = ["run", "row_number"]
        triggers = [
            pgtrigger.Protect(name="importedrow_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(name="importedrow_no_update", operation=pgtrigger.Update),
            no_truncate("importedrow_no_truncate"),
        ]

    def __str__(self):
        return f"{self.sheet}:{self.row_number}"


class ColumnMapping(models.Model):
    """A header of an old register and the field it holds (the mapping step)."""

    header = models.CharField(_("header"), max_length=200, unique=True)  # normalised
    target = models.CharField(_("field"), max_length=80)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")

    def __str__(self):
        return f"{self.header} -> {self.target}"


class StoreMapping(models.Model):
    """A store name of an old register and the site it is."""

    name = models.CharField(_("store name"), max_length=200, unique=True)  # normalised
    site = models.ForeignKey(
        "stock.Site", on_delete=models.PROTECT, related_name="+", verbose_name=_("site")
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("store mapping")
        verbose_name_plural = _("store mappings")

    def __str__(self):
        return f"{self.name} -> {self.site_id}"
