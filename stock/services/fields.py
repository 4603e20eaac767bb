"""The item fields a registration or a correction sets, and how each is
cleaned (country schema; reads only, for the CITES mark's uniqueness).

Each field is cleaned the same way: text stripped (a decimal comma made a
point for numbers), the field's default when nothing is given, Django's own
field cleaning, decimals kept at the stored scale. What differs from field to
field is in ``RULES``: another default, a preparation before cleaning, and
the checks after it (the first that fails gives the field's message). Checks
that compare two fields are in ``ITEM_CHECKS``.
"""

import contextvars
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q
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
    if raw is None:
        value = None
    elif raw == "" and field.blank and field.get_internal_type() in ("CharField", "TextField"):
        # What field.clean gives an empty text it allows, without its
        # validators (they pass over empty values): most of a row's fields.
        value = ""
    else:
        value = field.clean(raw, None)
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


@dataclass
class MarkCheck:
    """A typed mark checked: its canonical form and parts, what refuses it,
    what only warns (an older mark whose weight differs)."""

    mark: str
    parsed: marks.ParsedMark | None = None
    errors: list = dc_field(default_factory=list)
    warnings: list = dc_field(default_factory=list)


def check_mark(mark: str, *, item_type: ItemType, weight_kg=None, exclude_pk=None) -> MarkCheck:
    """A typed (or scanned, imported) mark against the pattern, the calendar,
    the item's weight and the other items' serials (stock.marks)."""
    normalised = marks.normalise_mark(mark)
    message = marks.validate_mark(normalised, category=item_type.category)
    if message:
        return MarkCheck(mark=normalised, errors=[message])
    parsed = marks.parse_for_category(normalised, category=item_type.category)
    result = MarkCheck(mark=parsed.text, parsed=parsed)
    this_year = timezone.localdate().year
    if parsed.year > this_year:
        result.errors.append(
            _("The mark's year %(year)s is in the future.") % {"year": parsed.year}
        )
        return result
    if parsed.weight is not None and weight_kg is not None:
        expected = marks.whole_kg(weight_kg)
        if parsed.weight != expected:
            values = {
                "mark": marks.weight_text(parsed.weight),
                "weight": weight_kg,
                "expected": expected,
            }
            if parsed.year == this_year:
                result.errors.append(
                    _(
                        "A mark of this year carries the item's weight in whole kilograms: "
                        "%(weight)s kg is %(expected)s, not %(mark)s."
                    )
                    % values
                )
                return result
            # An older inventory's mark: the piece may have dried since.
            result.warnings.append(
                _(
                    "The mark says %(mark)s kg; the item weighs %(weight)s kg (%(expected)s "
                    "when rounded). Kept, as the mark of an earlier year; listed in Marks to do."
                )
                % values
            )
    holder = _mark_holder(parsed, exclude_pk=exclude_pk)
    if holder:
        result.errors.append(
            _("Serial %(serial)s of %(year)s is already on item %(number)s (mark %(mark)s).")
            % {
                "serial": parsed.serial,
                "year": parsed.year,
                "number": holder[0],
                "mark": holder[1],
            }
        )
    return result


# Set by mark_holders_cached(): the marks already on items, read once per
# (series, year) for a batch that checks many marks before writing any.
_holders_cache: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "sms_mark_holders", default=None
)


@contextmanager
def mark_holders_cached():
    """Within the block, check_mark reads the serials of each (series, year)
    once instead of asking per mark: for a batch that checks thousands of
    marks before writing any (the register import's check). A mark taken by
    someone else meanwhile is still refused when the batch is written (the
    database's unique constraints)."""
    token = _holders_cache.set({})
    try:
        yield
    finally:
        _holders_cache.reset(token)


def _mark_holder(parsed: marks.ParsedMark, *, exclude_pk=None):
    """(SMS number, mark) of the item holding ``parsed``'s serial or text, or None."""
    cache = _holders_cache.get()
    if cache is None or exclude_pk is not None:
        taken = StockItem.objects.filter(
            Q(cites_mark=parsed.text)
            | Q(mark_series=parsed.series, mark_year=parsed.year, mark_serial=parsed.serial)
        )
        if exclude_pk is not None:
            taken = taken.exclude(pk=exclude_pk)
        # No ORDER BY: with the model's ordering, PostgreSQL walks the whole
        # register by date to find that a mark is free.
        return next(iter(taken.order_by().values_list("sms_number", "cites_mark")[:1]), None)
    if "texts" not in cache:
        # Marks stored without their parts (flagged collisions): few.
        cache["texts"] = {
            mark: (number, mark)
            for number, mark in StockItem.objects.filter(
                cites_mark__isnull=False, mark_serial__isnull=True
            ).values_list("sms_number", "cites_mark")
        }
    key = (parsed.series, parsed.year)
    if key not in cache:
        serials, texts = {}, {}
        for number, mark, serial in StockItem.objects.filter(
            mark_series=parsed.series, mark_year=parsed.year, mark_serial__isnull=False
        ).values_list("sms_number", "cites_mark", "mark_serial"):
            serials[serial] = texts[mark] = (number, mark)
        cache[key] = (serials, texts)
        cache["texts"].update(texts)
    serials, _texts = cache[key]
    # The same text under another series is left to the unique constraint
    # on cites_mark when the batch is written.
    return serials.get(parsed.serial) or cache["texts"].get(parsed.text)


def mark_parts(parsed: marks.ParsedMark | None) -> dict:
    """The item's mark columns for a parsed mark (all empty for none)."""
    if parsed is None:
        return {"cites_mark": None, "mark_series": "", "mark_year": None, "mark_serial": None}
    return {
        "cites_mark": parsed.text,
        "mark_series": parsed.series,
        "mark_year": parsed.year,
        "mark_serial": parsed.serial,
    }


def generate_mark(*, item_type: ItemType, weight_kg) -> dict:
    """A new mark's columns, from the counter (stock.marks.allocate_mark).

    A typed or imported mark may already hold the next serial of its year and
    series, whatever its weight part: skip to a free one (the skipped serial is
    not a gap, it is on the item that was typed in)."""
    while True:
        allocated = marks.allocate_mark(category=item_type.category, weight_kg=weight_kg)
        series = marks.pattern_of(item_type.category)
        held = StockItem.objects.filter(
            Q(mark_series=series, mark_year=allocated.year, mark_serial=allocated.serial)
            | Q(cites_mark=allocated.mark)
        ).exists()
        if not held:
            return {
                "cites_mark": allocated.mark,
                "mark_series": series,
                "mark_year": allocated.year,
                "mark_serial": allocated.serial,
            }


def length_errors(clean: dict, *, item_type: ItemType) -> dict:
    """A cut piece of 1 kg or more needs its length to decide its mark."""
    if marks.length_needed(
        item_type=item_type, weight_kg=clean.get("weight_kg"), length_cm=longest(clean)
    ):
        return {
            "length_outer_cm": [
                _(
                    "A cut piece of 1 kg or more needs its length: from 20 cm it must carry "
                    "a CITES mark."
                )
            ]
        }
    return {}


def longest(clean: dict):
    """The longest length given (what decides whether a piece needs a mark)."""
    lengths = [clean.get(n) for n in ("length_outer_cm", "length_cm") if clean.get(n) is not None]
    return max(lengths) if lengths else None
