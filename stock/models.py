"""Stock register models (country schema)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
