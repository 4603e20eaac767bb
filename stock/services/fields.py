"""The item fields a registration or a correction sets, and how each is
cleaned (country schema; reads only, for the CITES mark's uniqueness).

Each field is cleaned the same way: text stripped (a decimal comma made a
point for numbers), the field's default when nothing is given, Django's own
field cleaning, decimals kept at the stored scale. What differs from field to
field is in ``RULES``: another default, a preparation before cleaning, and
the checks after it (the first that fails gives the field's message). Checks
that compare two fields are in ``ITEM_CHECKS``.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.decimals import decimal_text

from .. import marks
from ..field_rules import MEASUREMENTS
from ..models import ItemType, StockItem

# The fields a registration (or a correction) may set.
ITEM_FIELDS = (
    "weight_kg",
    "weight_is_final",
    "pieces",
    "bags",
    "length_outer_cm",
    "length_inner_cm",
    "lip_circumference_cm",
    "base_circumference_cm",
    "length_cm",
    "species",
    "side",
    "horn_position",
    "source",
    "legal_status",
    "court_hold",
    "case_reference",
    "exhibit_reference",
    "country_of_origin",
    "country_of_seizure",
    "acquired_on",
    "acquired_place",
    "received_on",
    "received_by",
    "dna_sample_id",
    "dna_lab",
    "dna_weight_removed_g",
    "notes",
)
# Corrections may also change these (validated the same way).
CORRECTABLE_EXTRA = ("item_type", "cites_mark", "custom_values")
# Not through corrections: moves go through custody, disposal through item_archive.
NOT_CORRECTABLE = {
    "site": gettext_lazy("An item changes site through a transfer, not a correction."),
    "status": gettext_lazy("The status changes through transfers, stock-takes or the archive."),
    "sms_number": gettext_lazy("The SMS number never changes."),
    "id": gettext_lazy("The identifier never changes."),
}
ISO2 = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class Context:
    """What a check may need besides the value."""

    item_type: ItemType
    today: object


# A check: (cleaned value, context) -> the message when it fails, else None.
Check = Callable[[object, Context], str | None]


@dataclass(frozen=True)
class FieldRule:
    # The value when none is given (else the model field's default, "" for text, None).
    default: Callable[[Context], object] | None = None
    # Applied to a given value before Django's field cleaning.
    prepare: Callable[[object], object] | None = None
    checks: tuple[Check, ...] = ()


def _required(message) -> Check:
    return lambda value, ctx: str(message) if value is None else None


def _more_than_zero(message) -> Check:
    return lambda value, ctx: str(message) if value is not None and value <= 0 else None


def _not_in_future(value, ctx: Context) -> str | None:
    return _("This date is in the future.") if value and value > ctx.today else None


def _iso2(value, ctx: Context) -> str | None:
    if value and not ISO2.match(value):
        return _("Use the two-letter ISO country code, e.g. KE.")
    return None


def _pieces(value, ctx: Context) -> str | None:
    if ctx.item_type.is_lot:
        return _("A lot needs its number of pieces (at least 1).") if not value else None
    return _("An individual piece counts as 1 piece.") if value != 1 else None


def _bags(value, ctx: Context) -> str | None:
    if ctx.item_type.is_lot:
        return _("A lot needs its number of bags (at least 1).") if not value else None
    return _("Bags are only counted for lots.") if value else None


_POSITIVE = FieldRule(checks=(_more_than_zero(gettext_lazy("Enter a value greater than 0.")),))
_COUNTRY = FieldRule(prepare=lambda raw: str(raw).upper(), checks=(_iso2,))

RULES: dict[str, FieldRule] = {
    "weight_kg": FieldRule(
        checks=(
            _required(gettext_lazy("Enter the weight in kilograms.")),
            _more_than_zero(gettext_lazy("The weight must be more than 0 kg.")),
        )
    ),
    "pieces": FieldRule(default=lambda ctx: None if ctx.item_type.is_lot else 1, checks=(_pieces,)),
    "bags": FieldRule(checks=(_bags,)),
    **dict.fromkeys(MEASUREMENTS, _POSITIVE),
    "dna_weight_removed_g": _POSITIVE,
    "country_of_origin": _COUNTRY,
    "country_of_seizure": _COUNTRY,
    "acquired_on": FieldRule(checks=(_not_in_future,)),
    "received_on": FieldRule(default=lambda ctx: ctx.today, checks=(_not_in_future,)),
}
_NO_RULE = FieldRule()


def _acquired_before_received(clean: dict, errors: dict) -> None:
    acquired, received = clean.get("acquired_on"), clean.get("received_on")
    if "acquired_on" not in errors and acquired and received and acquired > received:
        errors["acquired_on"] = [_("The item cannot be acquired after it was received.")]


# Checks of the item as a whole, after every field is cleaned.
ITEM_CHECKS = (_acquired_before_received,)


def _field(name):
    return StockItem._meta.get_field(name)


def _default(field, rule: FieldRule, ctx: Context):
    if rule.default is not None:
        return rule.default(ctx)
    if field.has_default():
        return field.get_default()
    if field.get_internal_type() in ("CharField", "TextField"):
        return ""
    return None


def _cleaned(name: str, raw, ctx: Context):
    """The clean value of one field; raises Django's ValidationError."""
    field = _field(name)
    rule = RULES.get(name, _NO_RULE)
    decimal = field.get_internal_type() == "DecimalField"
    if isinstance(raw, str):
        raw = decimal_text(raw) if decimal else raw.strip()
    if raw is None or raw == "":
        raw = _default(field, rule, ctx)
    elif rule.prepare is not None:
        raw = rule.prepare(raw)
    value = field.clean(raw, None) if raw is not None else None
    if decimal and value is not None:
        # "9" and "9.000" are the same weight: keep the stored scale so the
        # history shows what the database holds.
        value = value.quantize(Decimal(1).scaleb(-field.decimal_places))
    return value


def clean_item_fields(values: dict, *, item_type: ItemType) -> tuple[dict, dict]:
    """Clean every item field of ``values`` (a full set); returns (clean, errors)."""
    ctx = Context(item_type=item_type, today=timezone.localdate())
    clean: dict = {}
    errors: dict[str, list[str]] = {}
    for name in ITEM_FIELDS:
        try:
            clean[name] = value = _cleaned(name, values.get(name), ctx)
        except ValidationError as exc:
            errors[name] = list(exc.messages)
            continue
        for check in RULES.get(name, _NO_RULE).checks:
            message = check(value, ctx)
            if message:
                errors[name] = [message]
                break
    for check in ITEM_CHECKS:
        check(clean, errors)
    return clean, errors


def check_mark(mark: str, *, item_type: ItemType, exclude_pk=None) -> tuple[str, list[str]]:
    """(the mark in its canonical form, messages): its pattern, and that no
    other item has it."""
    normalised = marks.normalise_mark(mark)
    message = marks.validate_mark(normalised, category=item_type.category)
    if message:
        return normalised, [message]
    taken = StockItem.objects.filter(cites_mark=normalised)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        return normalised, [
            _("The mark %(mark)s is already on item %(number)s.")
            % {"mark": normalised, "number": taken.values_list("sms_number", flat=True).first()}
        ]
    return normalised, []


def longest(clean: dict):
    """The longest length given (what decides whether a piece needs a mark)."""
    lengths = [clean.get(n) for n in ("length_outer_cm", "length_cm") if clean.get(n) is not None]
    return max(lengths) if lengths else None
