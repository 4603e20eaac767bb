"""CITES marks (Res. Conf. 10.10) and SMS numbers (country schema).

Which pieces need a mark (``mark_required``):
  * type.marking == "always": every piece of the type;
  * type.marking == "cites_ivory": a whole tusk of any size (the type's
    declared CITES class is a whole one; for a type with no class, the whole
    flag), or a raw cut piece at least 20 cm long (the longest of
    length_outer_cm / length_cm) AND at least 1 kg; worked ivory is not
    marked by this rule (its class says so, whatever its code);
  * type.marking == "none": never generated (a mark may still be typed).

Pattern syntax (``ItemCategory.mark_pattern``, default ``DEFAULT_PATTERN``):
literal text with the placeholders
  {country}  the country's ISO code (the current schema's country)
  {yy}       last two digits of the year the mark is allocated
  {yyyy}     the four-digit year
  {serial}   the serial for (year, category), from 1, no padding;
             {serial:4} pads with zeros to 4 digits
  {weight}   the weight in whole kilograms, rounded to the nearest kg
             (half up: 13.5 kg -> 14, 0.4 kg -> 0)
e.g. "{country} {yy}/{serial}/{weight}" -> "XD 26/127/14" and
"ZA/{serial}/{yyyy}/{weight}" -> "ZA/311/2026/5". Marks are stored normalised
(upper case, runs of blanks as one space); validation of a typed or scanned
mark accepts any amount of blank where the pattern has a space and a decimal
weight ("14.5") as older marks have them.

Serials (and SMS numbers, "XA-2026-000123") come from a counter row locked with
SELECT ... FOR UPDATE inside the registering transaction: concurrent
registrations queue on the row, and a rolled-back registration gives its number
back, so there are neither duplicates nor gaps.
"""

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenants.current import current_country_code

from .models import CitesClass, ItemCategory, ItemNumberSerial, ItemType, MarkSerial

DEFAULT_PATTERN = "{country} {yy}/{serial}/{weight}"
MIN_LENGTH_CM = Decimal("20")
MIN_WEIGHT_KG = Decimal("1")

_PLACEHOLDER = re.compile(r"\{(country|yy|yyyy|serial|weight)(?::(\d+))?\}")


class MarkPatternError(ValueError):
    """The configured pattern itself is unusable."""


def normalise_mark(mark: str | None) -> str:
    return " ".join((mark or "").split()).upper()


def pattern_of(category: ItemCategory) -> str:
    return (category.mark_pattern or "").strip() or DEFAULT_PATTERN


def mark_required(*, item_type: ItemType, weight_kg, length_cm=None) -> bool:
    if item_type.marking == "always":
        return True
    if item_type.marking != "cites_ivory":
        return False
    if item_type.is_whole:
        return True
    if item_type.cites_class == CitesClass.IVORY_WORKED:
        return False
    if length_cm is None or weight_kg is None:
        return False
    return Decimal(length_cm) >= MIN_LENGTH_CM and Decimal(weight_kg) >= MIN_WEIGHT_KG


def whole_kg(weight_kg) -> int:
    return int(Decimal(weight_kg).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def format_mark(pattern: str, *, country: str, year: int, serial: int, weight_kg) -> str:
    def fill(match):
        name, width = match.group(1), match.group(2)
        if name == "country":
            return country
        if name == "yy":
            return f"{year % 100:02d}"
        if name == "yyyy":
            return f"{year:04d}"
        if name == "serial":
            return f"{serial:0{int(width)}d}" if width else str(serial)
        return str(whole_kg(weight_kg))

    if "{serial" not in pattern:
        raise MarkPatternError(f"Mark pattern {pattern!r} has no {{serial}}")
    return normalise_mark(_PLACEHOLDER.sub(fill, pattern))


def pattern_regex(pattern: str, *, country: str) -> re.Pattern:
    """A regex that matches normalised marks written with ``pattern``."""
    parts = []
    position = 0
    for match in _PLACEHOLDER.finditer(pattern):
        parts.append(_literal_regex(pattern[position : match.start()]))
        name, width = match.group(1), match.group(2)
        parts.append(
            {
                "country": re.escape(country.upper()),
                "yy": r"(?P<yy>\d{2})",
                "yyyy": r"(?P<yyyy>\d{4})",
                "serial": rf"(?P<serial>\d{{{width}}})" if width else r"(?P<serial>\d{1,9})",
                "weight": r"(?P<weight>\d{1,5}(?:[.,]\d{1,3})?)",
            }[name]
        )
        position = match.end()
    parts.append(_literal_regex(pattern[position:]))
    return re.compile("^" + "".join(parts) + "$")


def _literal_regex(text: str) -> str:
    # A blank in the pattern may be typed as no blank or several; marks are
    # normalised (single spaces) before matching anyway.
    return r"\s*".join(re.escape(chunk) for chunk in text.upper().split(" "))


def validate_mark(mark: str, *, category: ItemCategory) -> str | None:
    """None when ``mark`` fits the country's pattern for ``category``, else a message."""
    pattern = pattern_of(category)
    country = current_country_code()
    if pattern_regex(pattern, country=country).match(normalise_mark(mark)):
        return None
    example = format_mark(
        pattern, country=country, year=timezone.localdate().year, serial=127, weight_kg=14
    )
    return _("This mark does not follow the pattern %(pattern)s (for example %(example)s).") % {
        "pattern": pattern,
        "example": example,
    }


def _next_serial(model, **key) -> int:
    if not connection.in_atomic_block:
        raise RuntimeError("Serials are allocated inside the registering transaction")
    # One statement: the row is created at 1 or incremented, and stays locked
    # by this transaction until it ends; concurrent callers queue here (one
    # round trip instead of insert-if-absent, lock, update: the ODK sync
    # registers thousands of items in a row).
    columns = list(key)
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}, last_serial)"  # noqa: S608 (names from the model)
            f" VALUES ({', '.join(['%s'] * len(columns))}, 1)"
            f" ON CONFLICT ({', '.join(columns)})"
            f" DO UPDATE SET last_serial = {table}.last_serial + 1"
            " RETURNING last_serial",
            [key[column] for column in columns],
        )
        return cursor.fetchone()[0]


@dataclass(frozen=True)
class AllocatedMark:
    mark: str
    year: int
    serial: int


# savepoint=False: inside a registration a failure here fails it anyway, and a
# savepoint costs two round trips per allocation.
@transaction.atomic(savepoint=False)
def allocate_mark(*, category: ItemCategory, weight_kg, year: int | None = None) -> AllocatedMark:
    year = year or timezone.localdate().year
    pattern = pattern_of(category)
    serial = _next_serial(MarkSerial, year=year, series=pattern)
    mark = format_mark(
        pattern,
        country=current_country_code(),
        year=year,
        serial=serial,
        weight_kg=weight_kg,
    )
    return AllocatedMark(mark=mark, year=year, serial=serial)


@transaction.atomic(savepoint=False)
def allocate_sms_number(*, year: int | None = None) -> str:
    year = year or timezone.localdate().year
    serial = _next_serial(ItemNumberSerial, year=year)
    return f"{current_country_code()}-{year}-{serial:06d}"
