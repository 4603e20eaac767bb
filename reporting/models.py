"""Reporting models (country schema): generated reports kept as snapshots.

A ReportRun is asked for, generated (in Celery, or in-process without a
broker) and then kept for good: its file, the file's SHA-256 and the
parameters it was made from can't change once written, and no run is ever
deleted — the database refuses both (pgtrigger).
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.triggers import no_truncate

# CITES reasons for significant changes: a few paragraphs (forms and report_request).
REASONS_MAX_LENGTH = 10_000


def report_upload_to(run: "ReportRun", filename: str) -> str:
    # The storage adds countries/<schema>/; never served by URL, only by
    # reporting.views.run_download (scope check, access log).
    return f"reports/{run.requested_at:%Y/%m}/{run.pk}-{filename}"


class ReportRun(models.Model):
    class Kind(models.TextChoices):
        SUMMARY = "summary", _("Summary")
        YEARLY = "yearly", _("Year by year")
        DETAIL = "detail", _("Detailed item list")
        CITES = "cites", _("CITES stock declaration")

    class Format(models.TextChoices):
        XLSX = "xlsx", _("Excel (XLSX)")
        CSV = "csv", _("CSV")
        PDF = "pdf", _("PDF for printing")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Being prepared")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("report"), max_length=16, choices=Kind.choices)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    title = models.CharField(_("title"), max_length=200)
    # What the report was made from (period, filters, CITES kind and year),
    # as the form gave it; enough to make the same report again.
    parameters = models.JSONField(_("parameters"), default=dict)
    # The sites the report covers: the requester's scope when asked. Null =
    # every site of the country (only users who see every site may open it).
    site_ids = models.JSONField(_("sites"), null=True, blank=True)
    # CITES: the reasons for significant changes, kept with the snapshot.
    reasons = models.TextField(_("reasons for significant changes"), blank=True)
    # The last custody ledger entry the figures include: the same report
    # computed again with this cut-off gives the same numbers.
    ledger_sequence = models.BigIntegerField(_("ledger entries up to"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("asked for by"),
    )
    requested_at = models.DateTimeField(_("asked for"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to=report_upload_to, max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)

    class Meta:
        verbose_name = _("generated report")
        verbose_name_plural = _("generated reports")
        ordering = ["-requested_at", "-id"]
        permissions = [
            ("view_reports", _("Can view reports of the sites in scope")),
            ("export_reports", _("Can export reports of the sites in scope")),
        ]
        indexes = [
            models.Index(fields=["requested_by", "-requested_at"], name="reporting_run_by"),
        ]
        triggers = [
            pgtrigger.Protect(name="reportrun_no_delete", operation=pgtrigger.Delete),
            no_truncate("reportrun_no_truncate"),
            # Progress and status may move while it is prepared; once the
            # file's hash is written, what was generated is fixed.
            pgtrigger.Protect(
                name="reportrun_snapshot_fixed",
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    "OLD.sha256 <> '' AND ("
                    "OLD.sha256 IS DISTINCT FROM NEW.sha256"
                    " OR OLD.file IS DISTINCT FROM NEW.file"
                    " OR OLD.parameters IS DISTINCT FROM NEW.parameters"
                    " OR OLD.site_ids IS DISTINCT FROM NEW.site_ids"
                    " OR OLD.reasons IS DISTINCT FROM NEW.reasons"
                    " OR OLD.ledger_sequence IS DISTINCT FROM NEW.ledger_sequence"
                    " OR OLD.requested_by_id IS DISTINCT FROM NEW.requested_by_id"
                    " OR OLD.requested_at IS DISTINCT FROM NEW.requested_at"
                    " OR OLD.kind IS DISTINCT FROM NEW.kind"
                    " OR OLD.format IS DISTINCT FROM NEW.format)"
                ),
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.get_format_display()})"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.DONE and bool(self.sha256)

    @property
    def filename(self) -> str:
        return self.file.name.rsplit("/", 1)[-1] if self.file else ""


# --- Report aggregates ---------------------------------------------------------------
#
# Derived from the custody ledger by reporting.totals in the same transaction
# as each ledger entry (custody.ledger.append calls it), and rebuilt from the
# ledger by ``manage.py rebuild_report_totals``. Unlike the records above they
# are not evidence: they can always be recomputed, so they may be rewritten.


class ItemPosition(models.Model):
    """Where the ledger replay has each item now (reporting.figures' state:
    held / transit / missing / gone, place, pieces, weight), the day of its
    last entry (a later entry never takes effect before it), and the
    classification its movements are booked under in MovementTotal."""

    item_id = models.UUIDField(primary_key=True)
    # "" = entries seen before the item's registration (ignored by the replay).
    status = models.CharField(max_length=8, blank=True)
    # A site id, 0 = in transit (0 is never a site id; NULL would not match
    # in unique keys).
    place_id = models.BigIntegerField(null=True)
    pieces = models.IntegerField(default=0)
    weight_kg = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    last_day = models.DateField(null=True)
    item_type_id = models.BigIntegerField()
    source = models.CharField(max_length=32)
    received_on = models.DateField()
    # As on the item: NULL = no mark (a unique column there).
    cites_mark = models.CharField(max_length=64, null=True)  # noqa: DJ001
    sms_number = models.CharField(max_length=32)

    class Meta:
        indexes = [models.Index(fields=["item_type_id", "last_day"], name="reporting_pos_type_day")]

    def __str__(self):
        return f"{self.item_id} {self.status}"


class ItemTransition(models.Model):
    """One change of an item's holding or status (reporting.figures.Transition),
    on its effective day: the holding it leaves (on line_out) and the one it
    arrives at (on line_in); a side is absent (place NULL) when the item was
    not held before / is not held after."""

    sequence = models.BigIntegerField(primary_key=True)  # the ledger entry's
    item_id = models.UUIDField()
    day = models.DateField()
    status_after = models.CharField(max_length=8)
    place_before = models.BigIntegerField(null=True)
    pieces_before = models.IntegerField(default=0)
    weight_before = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    line_out = models.CharField(max_length=16, blank=True)
    detail_out = models.CharField(max_length=32, blank=True)
    place_after = models.BigIntegerField(null=True)
    pieces_after = models.IntegerField(default=0)
    weight_after = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    line_in = models.CharField(max_length=16, blank=True)
    detail_in = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["item_id", "sequence"], name="reporting_tr_item_seq"),
            models.Index(fields=["day"], name="reporting_tr_day"),
            models.Index(
                fields=["item_id"],
                name="reporting_tr_missing",
                condition=models.Q(status_after="missing"),
            ),
        ]

    def __str__(self):
        return f"#{self.sequence} {self.item_id} {self.day}"


class MovementTotal(models.Model):
    """Movements summed per period, place, type, source and line: every
    movement is counted in its year (grain 1), its month (2) and its day (3),
    so any balance or period is a sum over a few thousand rows (whole years,
    then months, then days) whatever the item count; and again in its year
    (4) and month (5) with source, line and detail left blank — the net
    change per place and type the dashboard's curves read."""

    YEAR, MONTH, DAY, NET_YEAR, NET_MONTH = 1, 2, 3, 4, 5

    grain = models.PositiveSmallIntegerField()
    period_start = models.DateField()
    place_id = models.BigIntegerField()  # 0 = in transit
    item_type_id = models.BigIntegerField()
    source = models.CharField(max_length=32)
    line = models.CharField(max_length=16)
    detail = models.CharField(max_length=32, blank=True)
    items = models.BigIntegerField(default=0)
    pieces = models.BigIntegerField(default=0)
    weight_kg = models.DecimalField(max_digits=18, decimal_places=3, default=0)
    # Items with a CITES mark among ``items``.
    marked = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "grain",
                    "period_start",
                    "place_id",
                    "item_type_id",
                    "source",
                    "line",
                    "detail",
                ],
                name="reporting_movement_key",
            )
        ]
        indexes = [
            # The dashboard's curves read the net rows by index only: no
            # visit of the table's pages, scattered by the upserts.
            models.Index(
                fields=["grain", "period_start"],
                include=["place_id", "item_type_id", "items", "pieces", "weight_kg", "marked"],
                condition=models.Q(grain__gte=4),
                name="reporting_movement_net",
            )
        ]

    def __str__(self):
        return f"{self.grain}/{self.period_start}/{self.place_id}/{self.line}: {self.items}"


class MonthBalance(models.Model):
    """What each place held of each category at the end of a month: the
    dashboard's curves, read as they are drawn (places × categories × months
    shown), never summed from the history.

    Dense from a place and category's first movement to the latest month any
    movement was booked in (``month`` = first day): when a movement falls in
    a month no row has yet, every pair's balance is carried into it, so the
    balance at the end of any month up to the latest is one row. Kept by
    reporting.totals with MovementTotal (same statement); equal to the sum of
    the net month rows (grain 5) of the category's types up to that month
    (``reporting.totals.month_balances_rebuild`` recomputes it from them)."""

    month = models.DateField()
    place_id = models.BigIntegerField()  # 0 = in transit
    category_id = models.BigIntegerField()
    items = models.BigIntegerField(default=0)
    pieces = models.BigIntegerField(default=0)
    weight_kg = models.DecimalField(max_digits=18, decimal_places=3, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["place_id", "category_id", "month"], name="reporting_month_balance_key"
            )
        ]
        indexes = [
            # The curves read a range of months by index only.
            models.Index(
                fields=["month"],
                include=["place_id", "category_id", "items", "pieces", "weight_kg"],
                name="reporting_month_balance_month",
            )
        ]

    def __str__(self):
        return f"{self.month} {self.place_id}/{self.category_id}: {self.weight_kg} kg"


# --- CITES filings ---------------------------------------------------------------------


class CitesFiling(models.Model):
    """A CITES stock declaration as filed with the Secretariat: frozen for good.

    The figures per class, the items held (so next year's declaration can say,
    item by item, what changed the year after it was filed), the reasons, who
    filed it and when, and the custody ledger entry it was computed up to.
    The database refuses any change or deletion (pgtrigger).
    """

    kind = models.CharField(_("declaration"), max_length=16)
    year = models.PositiveSmallIntegerField(_("year"))
    # {"classes": {key: [items, pieces, "kg"]}, "total": [items, pieces, "kg"]}
    snapshot = models.JSONField(_("figures as filed"), default=dict)
    # {item id: [class key, pieces, "kg"]} of the items held at 31 December.
    items = models.JSONField(_("items as filed"), default=dict)
    reasons = models.TextField(_("reasons for significant changes"), blank=True)
    ledger_sequence = models.BigIntegerField(_("ledger entries up to"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("filed by"),
    )
    # The name at the time, so the record reads the same if the account changes.
    filed_by_name = models.CharField(_("filed by"), max_length=150)
    filed_at = models.DateTimeField(_("filed on"), auto_now_add=True)

    class Meta:
        verbose_name = _("filed CITES declaration")
        verbose_name_plural = _("filed CITES declarations")
        ordering = ["-year", "kind"]
        permissions = [
            ("file_cites_declaration", _("Can file the country's CITES stock declarations")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="reporting_cites_filed_once"),
        ]
        triggers = [
            pgtrigger.Protect(name="citesfiling_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(name="citesfiling_no_update", operation=pgtrigger.Update),
            no_truncate("citesfiling_no_truncate"),
        ]

    def __str__(self):
        return f"{self.kind} {self.year}"


# --- Privately held ivory stocks ---------------------------------------------------------


class PrivateHolding(models.Model):
    """A privately held ivory stock declared to the Management Authority
    (Res. Conf. 10.10 asks Parties to declare them "where possible"). Not
    government stock: the declaration totals them apart.

    They belong to the country, not to a site: only users who see every site
    see them (reporting.selectors)."""

    holder = models.CharField(_("holder"), max_length=200)
    place = models.CharField(_("place where held"), max_length=200)
    declared_on = models.DateField(_("date declared"))
    # Pieces and weight per class of the ivory declaration.
    raw_whole_pieces = models.PositiveIntegerField(_("whole tusks: pieces"), default=0)
    raw_whole_kg = models.DecimalField(
        _("whole tusks: weight (kg)"), max_digits=10, decimal_places=3, default=0
    )
    raw_cut_pieces = models.PositiveIntegerField(_("cut pieces: pieces"), default=0)
    raw_cut_kg = models.DecimalField(
        _("cut pieces: weight (kg)"), max_digits=10, decimal_places=3, default=0
    )
    worked_pieces = models.PositiveIntegerField(_("worked ivory: pieces"), default=0)
    worked_kg = models.DecimalField(
        _("worked ivory: weight (kg)"), max_digits=10, decimal_places=3, default=0
    )
    documents = models.TextField(
        _("documents"), blank=True, help_text=_("Permits, certificates, references.")
    )
    # The stock is no longer held from this day (sold under permit, surrendered…).
    ended_on = models.DateField(_("no longer held from"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    CLASSES = ("raw_whole", "raw_cut", "worked")

    class Meta:
        verbose_name = _("privately held ivory stock")
        verbose_name_plural = _("privately held ivory stocks")
        ordering = ["-declared_on", "holder"]
        triggers = [
            pgtrigger.Protect(name="privateholding_no_delete", operation=pgtrigger.Delete),
            no_truncate("privateholding_no_truncate"),
        ]

    def __str__(self):
        return f"{self.holder} ({self.declared_on})"
