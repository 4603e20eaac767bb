"""Stock register models (country schema).

Stock contract (shared with the web views): StockItem, ItemPhoto, ItemChange,
ArchiveRecord, FieldDefinitionChange, MarkSerial, StockTotal as in the contract;
one addition, ItemNumberSerial (the per-year counter behind SMS numbers),
ItemType.whole (a whole tusk/horn: marked at any size, see stock.marks) and
ItemType.cites_class (the declared CITES class, see CitesClass).
"""

import uuid

import pgtrigger
from django.conf import settings
from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.triggers import no_truncate


class Site(models.Model):
    """A store, strongroom or warehouse."""

    code = models.SlugField(_("code"), max_length=32, unique=True, allow_unicode=False)
    name = models.CharField(_("name"), max_length=150)
    region = models.CharField(_("region"), max_length=100, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    custodian = models.CharField(_("custodian"), max_length=150, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # The users scoped to this site (users with all_sites see every site anyway).
    scoped_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="scoped_sites", blank=True
    )

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class ItemCategory(models.Model):
    class Kind(models.TextChoices):
        IVORY = "ivory", _("Ivory")
        RHINO_HORN = "rhino_horn", _("Rhino horn")
        PANGOLIN = "pangolin", _("Pangolin scales")
        SKIN = "skin", _("Skin")
        WEAPON = "weapon", _("Weapon")
        OTHER = "other", _("Other")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    labels = models.JSONField(_("labels"), default=dict, help_text=_("Label per language code."))
    # Pattern for CITES marks of this category, e.g. "{country} {yy}/{serial}/{weight}".
    mark_pattern = models.CharField(_("mark pattern"), max_length=100, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("item category")
        verbose_name_plural = _("item categories")
        ordering = ["order", "code"]

    def __str__(self):
        return self.label()

    def label(self, language: str | None = None) -> str:
        return localized_label(self.labels, language, fallback=self.get_kind_display())


class CitesClass(models.TextChoices):
    """The CITES declaration class of an item type, declared in the inventory
    protocol (never guessed from its code or label): ivory under Res. Conf.
    10.10, rhino horn under 9.14, pangolin under 17.10. Blank for categories
    that have no CITES declaration (skins, weapons, other)."""

    IVORY_RAW_WHOLE = "ivory_raw_whole", _("Raw ivory: whole tusk")
    IVORY_RAW_CUT = "ivory_raw_cut", _("Raw ivory: cut piece")
    IVORY_WORKED = "ivory_worked", _("Worked ivory")
    RHINO_WHOLE = "rhino_whole", _("Rhino horn: whole horn")
    RHINO_PIECE = "rhino_piece", _("Rhino horn: piece")
    RHINO_DERIVATIVE = "rhino_derivative", _("Rhino horn: derivative")
    PANGOLIN_SCALES = "pangolin_scales", _("Pangolin: scales")
    PANGOLIN_OTHER = "pangolin_other", _("Pangolin: other parts")


# The classes a category kind may use; a type of one of these kinds must
# declare one (provisioning refuses it otherwise).
CITES_CLASSES_BY_KIND = {
    "ivory": (CitesClass.IVORY_RAW_WHOLE, CitesClass.IVORY_RAW_CUT, CitesClass.IVORY_WORKED),
    "rhino_horn": (CitesClass.RHINO_WHOLE, CitesClass.RHINO_PIECE, CitesClass.RHINO_DERIVATIVE),
    "pangolin": (CitesClass.PANGOLIN_SCALES, CitesClass.PANGOLIN_OTHER),
}
# Whole tusks and horns: Res. Conf. 10.10 marks them whatever their size.
WHOLE_CITES_CLASSES = frozenset({CitesClass.IVORY_RAW_WHOLE, CitesClass.RHINO_WHOLE})


class ItemType(models.Model):
    class Counting(models.TextChoices):
        PIECE = "piece", _("Individual piece")
        LOT = "lot", _("Lot (weighed in bags)")

    category = models.ForeignKey(
        ItemCategory, on_delete=models.PROTECT, related_name="types", verbose_name=_("category")
    )
    code = models.SlugField(_("code"), max_length=32, unique=True)
    labels = models.JSONField(_("labels"), default=dict)
    counting = models.CharField(
        _("counting"), max_length=8, choices=Counting.choices, default=Counting.PIECE
    )
    # Whether a piece of this type needs a CITES mark (Res. Conf. 10.10 for ivory).
    marking = models.CharField(
        _("marking"),
        max_length=16,
        choices=[
            ("none", _("No mark")),
            ("always", _("Always marked")),
            ("cites_ivory", _("Marked when at least 20 cm and 1 kg")),
        ],
        default="none",
    )
    # A whole tusk (or horn): Res. Conf. 10.10 marks it whatever its size.
    # For ivory, rhino horn and pangolin the CITES class decides (below); the
    # flag (or "whole" in the code) still serves the other categories.
    whole = models.BooleanField(_("whole piece"), default=False)
    cites_class = models.CharField(
        _("CITES class"), max_length=32, choices=CitesClass.choices, blank=True
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("item type")
        verbose_name_plural = _("item types")
        ordering = ["category__order", "order", "code"]

    def __str__(self):
        return self.label()

    def label(self, language: str | None = None) -> str:
        return localized_label(self.labels, language, fallback=self.code)

    @property
    def is_lot(self) -> bool:
        return self.counting == self.Counting.LOT

    @property
    def is_whole(self) -> bool:
        if self.cites_class:
            return self.cites_class in WHOLE_CITES_CLASSES
        return self.whole or "whole" in self.code


class CustomFieldDefinition(models.Model):
    """A country-specific data field; values live in StockItem.custom_values."""

    class FieldType(models.TextChoices):
        TEXT = "text", _("Text")
        INTEGER = "integer", _("Whole number")
        DECIMAL = "decimal", _("Decimal number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("One choice")
        MULTI_CHOICE = "multi_choice", _("Several choices")
        BOOLEAN = "boolean", _("Yes / no")

    key = models.SlugField(_("key"), max_length=64, unique=True)
    labels = models.JSONField(_("labels"), default=dict)
    field_type = models.CharField(_("type"), max_length=16, choices=FieldType.choices)
    unit = models.CharField(_("unit"), max_length=32, blank=True)
    required = models.BooleanField(_("required"), default=False)
    # [{"value": "...", "labels": {"en": "...", "fr": "..."}}]
    choices = models.JSONField(_("choices"), default=list, blank=True)
    applies_to = models.ManyToManyField(
        ItemType, related_name="custom_fields", blank=True, verbose_name=_("applies to")
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    # Deactivated, never dropped: old values stay readable.
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["order", "key"]

    def __str__(self):
        return self.label()

    def label(self, language: str | None = None) -> str:
        return localized_label(self.labels, language, fallback=self.key)


def localized_label(labels: dict, language: str | None, *, fallback: str) -> str:
    """Pick the label in the user's language, then English, then any."""
    from django.utils import translation

    language = (language or translation.get_language() or "en").split("-")[0]
    if not labels:
        return str(fallback)
    return labels.get(language) or labels.get("en") or next(iter(labels.values()))


# --- The register ---------------------------------------------------------------
#
# Everything below is append-mostly: the database refuses DELETE and TRUNCATE
# on items, photos, changes, archive records and field-definition changes
# (pgtrigger triggers, installed in each country schema by migrate_schemas;
# the application's database role has no DELETE or TRUNCATE on them either,
# see core.dbroles).
# Writes go through stock.services only.


def _protect_delete(name: str) -> "pgtrigger.Protect":
    return pgtrigger.Protect(name=name, operation=pgtrigger.Delete)


def _protect_update(name: str) -> "pgtrigger.Protect":
    return pgtrigger.Protect(name=name, operation=pgtrigger.Update)


def _never_delete(prefix: str) -> list["pgtrigger.Trigger"]:
    """A record that stays: the database refuses DELETE and TRUNCATE."""
    return [_protect_delete(f"{prefix}_no_delete"), no_truncate(f"{prefix}_no_truncate")]


def _append_only(prefix: str) -> list["pgtrigger.Trigger"]:
    """A record that is written once: the database refuses updates, deletes and TRUNCATE."""
    return [*_never_delete(prefix), _protect_update(f"{prefix}_no_update")]


def _recorded_by(verbose_name) -> models.ForeignKey:
    """Who did it: a user who can never be deleted while their records exist."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=verbose_name,
    )


class MarkFlag(models.TextChoices):
    """Why an item's mark needs attention (the "Marks to do" page)."""

    LEGACY_WEIGHT = "legacy_weight", _("Older mark: its weight differs from the item's")
    REMARK = "remark", _("Weight corrected beyond the mark's rounding: re-mark")
    COLLISION = "collision", _("Mark collides with another item's serial")


class StockItem(models.Model):
    class Status(models.TextChoices):
        IN_STOCK = "in_stock", _("In stock")
        IN_TRANSIT = "in_transit", _("In transit")
        MISSING = "missing", _("Missing")
        ARCHIVED = "archived", _("Archived")

    class Side(models.TextChoices):
        LEFT = "L", _("Left")
        RIGHT = "R", _("Right")

    class HornPosition(models.TextChoices):
        ANTERIOR = "anterior", _("Anterior")
        POSTERIOR = "posterior", _("Posterior")
        UNKNOWN = "unknown", _("Unknown")

    class Source(models.TextChoices):
        SEIZURE = "seizure", _("Seizure")
        NATURAL_MORTALITY = "natural_mortality", _("Natural mortality")
        MANAGEMENT = "management", _("Problem-animal control / management")
        POACHED_CARCASS = "poached_carcass", _("Poached carcass")
        DEHORNING = "dehorning", _("Dehorning")
        SURRENDER = "surrender", _("Surrender")
        UNKNOWN = "unknown", _("Unknown")

    class LegalStatus(models.TextChoices):
        GOVERNMENT_PROPERTY = "government_property", _("Government property")
        EVIDENCE = "evidence", _("Evidence in a case")
        UNDER_INVESTIGATION = "under_investigation", _("Under investigation")
        FORFEITED = "forfeited", _("Forfeited to the state")
        UNKNOWN = "unknown", _("Unknown")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Human-friendly, allocated without gaps per country and year by
    # stock.marks.allocate_sms_number: "XA-2026-000123".
    sms_number = models.CharField(_("SMS number"), max_length=32, unique=True, editable=False)
    item_type = models.ForeignKey(
        ItemType, on_delete=models.PROTECT, related_name="items", verbose_name=_("item type")
    )
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="items", verbose_name=_("site")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.IN_STOCK
    )

    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=10, decimal_places=3)
    # Horn is dried before its final weighing: the first weight is provisional.
    weight_is_final = models.BooleanField(_("final weight"), default=True)
    pieces = models.PositiveIntegerField(_("pieces"), default=1)
    bags = models.PositiveIntegerField(_("bags"), null=True, blank=True)

    length_outer_cm = models.DecimalField(
        _("length, outer curve (cm)"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    length_inner_cm = models.DecimalField(
        _("length, inner curve (cm)"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    lip_circumference_cm = models.DecimalField(
        _("lip circumference (cm)"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    base_circumference_cm = models.DecimalField(
        _("base circumference (cm)"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    length_cm = models.DecimalField(
        _("length (cm)"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    species = models.CharField(_("species"), max_length=100, blank=True)
    side = models.CharField(_("side"), max_length=1, choices=Side.choices, blank=True)
    horn_position = models.CharField(
        _("horn position"), max_length=16, choices=HornPosition.choices, blank=True
    )

    source = models.CharField(
        _("source"), max_length=32, choices=Source.choices, default=Source.UNKNOWN
    )
    legal_status = models.CharField(
        _("legal status"),
        max_length=32,
        choices=LegalStatus.choices,
        default=LegalStatus.GOVERNMENT_PROPERTY,
    )
    court_hold = models.BooleanField(_("court hold"), default=False)
    case_reference = models.CharField(_("case reference"), max_length=100, blank=True)
    exhibit_reference = models.CharField(_("exhibit reference"), max_length=100, blank=True)
    country_of_origin = models.CharField(_("country of origin"), max_length=2, blank=True)
    country_of_seizure = models.CharField(_("country of seizure"), max_length=2, blank=True)
    acquired_on = models.DateField(_("date acquired"), null=True, blank=True)
    acquired_place = models.CharField(_("place acquired"), max_length=200, blank=True)
    received_on = models.DateField(_("date received"))
    received_by = models.CharField(_("received by"), max_length=150, blank=True)

    dna_sample_id = models.CharField(_("DNA sample ID"), max_length=100, blank=True)
    dna_lab = models.CharField(_("DNA laboratory"), max_length=150, blank=True)
    dna_weight_removed_g = models.DecimalField(
        _("weight removed for DNA (g)"), max_digits=9, decimal_places=1, null=True, blank=True
    )

    # Values of the country's CustomFieldDefinitions, by key, validated by
    # stock.custom_fields; keys of deactivated fields stay (never dropped).
    custom_values = models.JSONField(_("custom values"), default=dict, blank=True)
    # Stored normalised (upper case, single spaces); NULL for unmarked items
    # so the unique constraint only bites on real marks.
    cites_mark = models.CharField(
        _("CITES mark"), max_length=64, null=True, blank=True, unique=True
    )
    # The mark's parts (stock.marks.parse_mark): the serial is unique per
    # (series, year) whatever the weight part says, archived items included
    # (the mark is written on the ivory). NULL when the item has no mark, or
    # for a mark the migration could not place (flagged "collision").
    mark_series = models.CharField(_("mark series"), max_length=100, blank=True)
    mark_year = models.PositiveSmallIntegerField(_("mark year"), null=True, blank=True)
    mark_serial = models.PositiveIntegerField(_("mark serial"), null=True, blank=True)
    # Why the mark needs someone's attention ("Marks to do"); blank when it doesn't.
    mark_flag = models.CharField(
        _("mark to check"), max_length=16, choices=MarkFlag.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)

    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    created_by = _recorded_by(_("registered by"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("stock item")
        verbose_name_plural = _("stock items")
        ordering = ["-received_on", "-sms_number"]
        permissions = [
            ("register_item", _("Can register items")),
            ("correct_item", _("Can correct items")),
            ("archive_item", _("Can archive items")),
        ]
        indexes = [
            # The list's filters and default order.
            models.Index(
                fields=["status", "site", "-received_on"], name="stock_item_status_site_recv"
            ),
            models.Index(fields=["item_type", "status"], name="stock_item_type_status"),
            # The unfiltered list (the default page) walks this backwards and
            # stops after one page; without it, every visit sorted the whole
            # table (800 ms at a million items, bench/stock_views.py).
            models.Index(fields=["received_on", "sms_number"], name="stock_item_recv_number"),
            # Search: exact or prefix, case-insensitive (q is upper-cased).
            models.Index(
                OpClass(Upper("cites_mark"), name="text_pattern_ops"),
                name="stock_item_mark_upper",
            ),
            # Marks to do: the few flagged items.
            models.Index(
                fields=["mark_flag"],
                name="stock_item_mark_flag",
                condition=~models.Q(mark_flag=""),
            ),
            models.Index(
                OpClass(Upper("sms_number"), name="text_pattern_ops"),
                name="stock_item_number_upper",
            ),
            models.Index(
                OpClass(Upper("case_reference"), name="text_pattern_ops"),
                name="stock_item_case_upper",
            ),
            # The wider search (stock.filters._prefix_tests) and the sort by weight.
            models.Index(
                OpClass(Upper("exhibit_reference"), name="text_pattern_ops"),
                name="stock_item_exhibit_upper",
            ),
            models.Index(
                OpClass(Upper("species"), name="text_pattern_ops"),
                name="stock_item_species_upper",
            ),
            models.Index(fields=["weight_kg", "sms_number"], name="stock_item_weight_number"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["mark_series", "mark_year", "mark_serial"],
                condition=models.Q(mark_serial__isnull=False),
                name="stock_item_mark_serial_unique",
            )
        ]
        triggers = _never_delete("stockitem")

    def __str__(self):
        return self.sms_number

    @property
    def is_archived(self) -> bool:
        return self.status == self.Status.ARCHIVED


def photo_upload_to(photo: "ItemPhoto", filename: str) -> str:
    # The storage adds countries/<schema>/; the item id keeps one item's
    # photos together and the random name never collides.
    ext = (filename.rsplit(".", 1)[-1] if "." in filename else "bin").lower()
    return f"items/{photo.item_id}/{uuid.uuid4().hex}.{ext}"


def thumbnail_upload_to(photo: "ItemPhoto", filename: str) -> str:
    return f"items/{photo.item_id}/thumbs/{uuid.uuid4().hex}.jpg"


class ItemPhoto(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    item = models.ForeignKey(
        StockItem, on_delete=models.PROTECT, related_name="photos", verbose_name=_("item")
    )
    # The original, byte for byte; sha256 is of exactly these bytes.
    file = models.FileField(_("file"), upload_to=photo_upload_to, max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=32)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    thumbnail = models.FileField(_("thumbnail"), upload_to=thumbnail_upload_to, max_length=255)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = _recorded_by(_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["uploaded_at"]
        # The original file keeps the camera's EXIF, often with the store's
        # GPS position; other roles get copies without it (stock.evidence).
        permissions = [
            ("view_original_photo", _("Can view original photos (with their GPS position)"))
        ]
        # Written once: the file, its SHA-256 and size are the evidence. Not
        # even the application may change them (a hash rewritten to match a
        # swapped file would pass every check).
        triggers = _append_only("itemphoto")

    def __str__(self):
        return f"{self.item_id} {self.sha256[:12]}"


class DerivedPhotoFile(models.Model):
    """A file made from a photo's original (its thumbnail, its display copy
    without metadata) and the SHA-256 of its bytes when it was made
    (stock.evidence). Written once, like the photo: a file made again gets a
    row of its own, and the newest row of a (photo, kind) names the file
    served and the hash it must have."""

    class Kind(models.TextChoices):
        THUMBNAIL = "thumbnail", _("thumbnail")
        DISPLAY = "display", _("display copy")

    photo = models.ForeignKey(
        ItemPhoto, on_delete=models.PROTECT, related_name="derived_files", verbose_name=_("photo")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    made_at = models.DateTimeField(_("made"), auto_now_add=True)
    # Ed25519 over photo, kind, file and SHA-256 with the country's ledger key
    # (never in the database): a row written by hand, with the database
    # password only, carries none that verifies and is ignored (stock.evidence).
    signature = models.TextField(_("signature"), blank=True, default="")

    class Meta:
        verbose_name = _("derived photo file")
        verbose_name_plural = _("derived photo files")
        indexes = [models.Index(fields=["photo", "kind", "-made_at"], name="stock_derived_latest")]
        triggers = _append_only("derivedphotofile")

    def __str__(self):
        return f"{self.photo_id} {self.kind} {self.sha256[:12]}"


class ItemChange(models.Model):
    """One corrected field of an item: who, when, old and new value, why."""

    item = models.ForeignKey(
        StockItem, on_delete=models.PROTECT, related_name="changes", verbose_name=_("item")
    )
    field = models.CharField(_("field"), max_length=100)
    old_value = models.JSONField(_("old value"), null=True, blank=True)
    new_value = models.JSONField(_("new value"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    changed_by = _recorded_by(_("changed by"))
    changed_at = models.DateTimeField(_("changed"), auto_now_add=True)

    class Meta:
        verbose_name = _("item change")
        verbose_name_plural = _("item changes")
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["item", "changed_at"], name="stock_change_item_at")]
        triggers = _append_only("itemchange")

    def __str__(self):
        return f"{self.item_id} {self.field}"


class ArchiveRecord(models.Model):
    """Why and how an item left government custody (the item is never deleted)."""

    class Reason(models.TextChoices):
        DESTROYED = "destroyed", _("Destroyed")
        EDUCATION_DISPLAY = "education_display", _("Retained for education or display")
        SCIENTIFIC_FORENSIC = "scientific_forensic", _("Scientific or forensic use")
        ENFORCEMENT_TRAINING = "enforcement_training", _("Enforcement or training use")
        RELEASED_TO_COURT = "released_to_court", _("Released to court or police")
        TRANSFERRED_ABROAD = "transferred_abroad", _("Transferred to another country")
        LOST_STOLEN = "lost_stolen", _("Lost or stolen")
        DETERIORATED = "deteriorated", _("Deteriorated")
        NOT_GENUINE = "not_genuine", _("Not genuine or wrong species")
        SPLIT_MERGED = "split_merged", _("Split or merged")
        DUPLICATE_ENTRY = "duplicate_entry", _("Duplicate entry")
        LEGAL_SALE = "legal_sale", _("Legal sale")

    item = models.OneToOneField(
        StockItem, on_delete=models.PROTECT, related_name="archive_record", verbose_name=_("item")
    )
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices)
    archived_on = models.DateField(_("date"))
    authority_reference = models.CharField(_("authority reference"), max_length=200)
    destruction_method = models.CharField(_("destruction method"), max_length=200, blank=True)
    witnesses = models.TextField(_("witnesses"), blank=True)
    incident_reference = models.CharField(_("incident reference"), max_length=200, blank=True)
    # Split / merged: the parent or children of the archived item.
    related_items = models.ManyToManyField(
        StockItem, related_name="+", blank=True, verbose_name=_("related items")
    )
    notes = models.TextField(_("notes"), blank=True)
    archived_by = _recorded_by(_("archived by"))
    archived_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("archive record")
        verbose_name_plural = _("archive records")
        ordering = ["-archived_on", "-archived_at"]
        indexes = [models.Index(fields=["reason", "archived_on"], name="stock_archive_reason_on")]
        triggers = _append_only("archiverecord")

    def __str__(self):
        return f"{self.item_id} {self.reason}"


class FieldDefinitionChange(models.Model):
    """A change to a custom field definition, with the definition before and after."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        DEACTIVATED = "deactivated", _("Deactivated")
        REACTIVATED = "reactivated", _("Reactivated")

    definition = models.ForeignKey(
        CustomFieldDefinition,
        on_delete=models.PROTECT,
        related_name="changes",
        verbose_name=_("field"),
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    changed_by = _recorded_by(_("changed by"))
    changed_at = models.DateTimeField(_("changed"), auto_now_add=True)

    class Meta:
        verbose_name = _("field definition change")
        verbose_name_plural = _("field definition changes")
        ordering = ["changed_at", "id"]
        triggers = _append_only("fielddefchange")

    def __str__(self):
        return f"{self.definition_id} {self.action}"


class MarkSerial(models.Model):
    """Last CITES mark serial used per (year, mark series); locked FOR UPDATE to allocate.

    The series is the mark pattern itself: categories that share a pattern
    (e.g. every ivory type under "{country} {yy}/{serial}/{weight}") share one
    counter, so two marks can never come out the same; a category with its own
    format (e.g. rhino horn "ZA/{serial}/{yyyy}/{weight}") runs its own series.
    """

    year = models.PositiveIntegerField(_("year"))
    series = models.CharField(_("mark series"), max_length=100)
    last_serial = models.PositiveIntegerField(_("last serial"), default=0)

    class Meta:
        verbose_name = _("mark serial")
        verbose_name_plural = _("mark serials")
        constraints = [
            models.UniqueConstraint(fields=["year", "series"], name="stock_markserial_year_series")
        ]

    def __str__(self):
        return f"{self.year} {self.series}: {self.last_serial}"


class ItemNumberSerial(models.Model):
    """Last SMS number used per year; locked FOR UPDATE to allocate."""

    year = models.PositiveIntegerField(_("year"), unique=True)
    last_serial = models.PositiveIntegerField(_("last serial"), default=0)

    class Meta:
        verbose_name = _("SMS number serial")
        verbose_name_plural = _("SMS number serials")

    def __str__(self):
        return f"{self.year}: {self.last_serial}"


class StockTotal(models.Model):
    """Running totals per (site, type, status), kept by stock.services in the
    same transaction as each change, so dashboards never scan the item table."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    item_type = models.ForeignKey(ItemType, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=StockItem.Status.choices)
    items = models.BigIntegerField(default=0)
    pieces = models.BigIntegerField(default=0)
    weight_kg = models.DecimalField(max_digits=16, decimal_places=3, default=0)

    class Meta:
        verbose_name = _("stock total")
        verbose_name_plural = _("stock totals")
        constraints = [
            models.UniqueConstraint(
                fields=["site", "item_type", "status"], name="stock_total_unique"
            )
        ]

    def __str__(self):
        return f"{self.site_id}/{self.item_type_id}/{self.status}: {self.items}"


class FormSubmission(models.Model):
    """A create form's one-time token, spent by the first post that succeeds.

    A second post of the same form (a double click, Enter pressed twice, a
    browser resending) finds the first one's result instead of creating
    another item, transfer or stock-take (stock.submissions). Written in the
    same transaction as what the form created: a failed post spends nothing.
    """

    token = models.UUIDField(_("token"), primary_key=True)
    purpose = models.CharField(_("form"), max_length=64)
    user = _recorded_by(_("sent by"))
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    # The primary key of what the form created.
    result = models.CharField(_("result"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")

    def __str__(self):
        return f"{self.purpose} {self.token}"


class PendingCorrection(models.Model):
    """A correction waiting for an approver, in a country that wants
    corrections approved (stock.services.corrections). Applied, in the name of
    the person who asked, only when an administrator approves it.

    It lived in the administration app until the correction path moved to
    stock: the table keeps its name (and its rows).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    item = models.ForeignKey(
        StockItem,
        on_delete=models.PROTECT,
        related_name="pending_corrections",
        verbose_name=_("item"),
    )
    # {field: new value} (JSON-safe; "custom_values": {key: new value}).
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
        db_table = "administration_pendingcorrection"
        verbose_name = _("correction waiting for approval")
        verbose_name_plural = _("corrections waiting for approval")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["status", "-requested_at"], name="admin_pending_status")]
        triggers = _never_delete("pendingcorrection")

    def __str__(self):
        return f"{self.item_id} {self.status}"
