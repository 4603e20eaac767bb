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
"ZA/{serial}/{yyyy}/{weight}" -> "ZA/311/2026/5".

One canonical form is stored and compared (``parse_mark``): a typed or
scanned mark is accepted with any amount of blank where the pattern has a
space (or none), any case, leading zeros in the serial and the weight, and a
decimal weight ("14.5", "14,5") as older marks have them; it is stored
rebuilt from its parts: "xc26/0111/05" -> "XC 26/111/5" (a serial padded by
the pattern, {serial:4}, keeps its padding). The parts (year, serial, the
pattern as the series) are stored too: a serial is unique per (series, year)
whatever the weight part says, archived items included (the mark is written
on the ivory). ``mark_regex`` is the one definition of what a mark of a
pattern looks like (the ODK form's constraint reuses it).

Serials (and SMS numbers, "XA-2026-000123") come from a counter row locked with
SELECT ... FOR UPDATE inside the registering transaction: concurrent
registrations queue on the row, and a rolled-back registration gives its number
back, so there are neither duplicates nor gaps.
"""

import functools
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenants.current import current_country_code

from . import catalogue
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


def length_needed(*, item_type: ItemType, weight_kg, length_cm) -> bool:
    """A cut piece of at least 1 kg with no length: whether it must be marked
    can't be decided (Res. Conf. 10.10 marks it from 20 cm)."""
    if item_type.marking != "cites_ivory" or item_type.is_whole:
        return False
    if item_type.cites_class == CitesClass.IVORY_WORKED:
        return False
    return length_cm is None and weight_kg is not None and Decimal(weight_kg) >= MIN_WEIGHT_KG


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


@functools.lru_cache(maxsize=256)
def pattern_regex(pattern: str, *, country: str) -> re.Pattern:
    """A regex that matches marks written with ``pattern`` (named groups)."""
    return re.compile("^" + mark_regex(pattern, country=country) + "$", re.IGNORECASE)


def mark_regex(pattern: str, *, country: str, named: bool = True) -> str:
    """The regular expression (unanchored text) of a mark written with
    ``pattern``: any blank where the pattern has a space, leading zeros, a
    decimal weight. ``named=False`` leaves out the group names (XLSForm
    constraints, issue 14); match case-insensitively or upper-case first."""
    parts = []
    position = 0
    for match in _PLACEHOLDER.finditer(pattern):
        parts.append(_literal_regex(pattern[position : match.start()]))
        parts.append(
            {
                "country": re.escape(country.upper()),
                "yy": r"(?P<yy>\d{2})",
                "yyyy": r"(?P<yyyy>\d{4})",
                "serial": r"(?P<serial>\d{1,9})",
                "weight": r"(?P<weight>\d{1,5}(?:[.,]\d{1,3})?)",
            }[match.group(1)]
        )
        position = match.end()
    parts.append(_literal_regex(pattern[position:]))
    text = "".join(parts)
    return text if named else re.sub(r"\(\?P<\w+>", "(", text)


def _literal_regex(text: str) -> str:
    # A blank in the pattern may be typed as no blank or several.
    return r"\s*".join(re.escape(chunk) for chunk in text.upper().split(" "))


@dataclass(frozen=True)
class ParsedMark:
    text: str  # the canonical form
    series: str  # the pattern the mark is written with
    year: int  # 0 when the pattern has no year
    serial: int
    weight: Decimal | None  # None when the pattern has no {weight}


# Two-digit years: 76-99 are the 1900s (CITES entered into force in 1975),
# the rest the 2000s, so "27" typed in 2026 is 2027, a year in the future.
EARLIEST_TWO_DIGIT_YEAR = 1976


def _century(yy: int) -> int:
    year = 1900 + yy
    return year if year >= EARLIEST_TWO_DIGIT_YEAR else 2000 + yy


def parse_mark(mark: str, *, pattern: str, country: str) -> ParsedMark | None:
    """The mark in its canonical form and its parts, or None when it does not
    fit ``pattern``."""
    match = pattern_regex(pattern, country=country).match(normalise_mark(mark))
    if not match:
        return None
    groups = match.groupdict()
    if groups.get("yyyy"):
        year = int(groups["yyyy"])
    elif groups.get("yy"):
        year = _century(int(groups["yy"]))
    else:
        year = 0
    serial = int(groups["serial"])
    weight = None
    if groups.get("weight"):
        weight = Decimal(groups["weight"].replace(",", "."))

    def fill(placeholder):
        name, width = placeholder.group(1), placeholder.group(2)
        if name == "country":
            return country.upper()
        if name == "yy":
            return f"{year % 100:02d}"
        if name == "yyyy":
            return f"{year:04d}"
        if name == "serial":
            return f"{serial:0{int(width)}d}" if width else str(serial)
        return weight_text(weight)

    text = normalise_mark(_PLACEHOLDER.sub(fill, pattern))
    return ParsedMark(text=text, series=pattern, year=year, serial=serial, weight=weight)


def weight_text(weight: Decimal) -> str:
    """A mark's weight part: 14.250 and 014.25 are the same weight, "14.25"."""
    return format(weight.normalize(), "f") if weight % 1 else str(int(weight))


def parse_for_category(mark: str, *, category: ItemCategory) -> ParsedMark | None:
    return parse_mark(mark, pattern=pattern_of(category), country=current_country_code())


def canonical_query(text: str) -> list[str]:
    """The forms a searched mark may be stored under: the text as typed
    (normalised) and, when it is a whole mark of a pattern in use, its
    canonical form ("xc26/01/05" finds "XC 26/1/5")."""
    normalised = normalise_mark(text)
    forms = [normalised] if normalised else []
    if not normalised or not any(ch.isdigit() for ch in normalised):
        return forms
    country = current_country_code()
    # The categories' patterns from the catalogue: a search reads no category.
    patterns = {pattern_of(c) for c in catalogue.load().categories.values()}
    for pattern in sorted(patterns):
        parsed = parse_mark(normalised, pattern=pattern, country=country)
        if parsed and parsed.text not in forms:
            forms.append(parsed.text)
    return forms


def validate_mark(mark: str, *, category: ItemCategory) -> str | None:
    """None when ``mark`` fits the country's pattern for ``category``, else a message."""
    pattern = pattern_of(category)
    country = current_country_code()
    if parse_mark(mark, pattern=pattern, country=country):
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


@transaction.atomic(savepoint=False)
def allocate_sms_numbers(count: int, *, year: int | None = None) -> list[str]:
    """``count`` consecutive SMS numbers in one statement (a batch of
    registrations, e.g. the register import): the counter moves by ``count``
    under the same row lock as ``allocate_sms_number``."""
    if count < 1:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("Serials are allocated inside the registering transaction")
    year = year or timezone.localdate().year
    table = ItemNumberSerial._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (year, last_serial) VALUES (%s, %s)"  # noqa: S608 (the model's table)
            f" ON CONFLICT (year) DO UPDATE SET last_serial = {table}.last_serial + %s"
            " RETURNING last_serial",
            [year, count, count],
        )
        last = cursor.fetchone()[0]
    country = current_country_code()
    return [f"{country}-{year}-{serial:06d}" for serial in range(last - count + 1, last + 1)]
