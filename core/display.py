"""Times, dates and numbers as the country writes them: the one place.

Pages use these through the template filters of ``{% load sms_format %}``
(core/templatetags/sms_format.py); PDFs, spreadsheets and e-mails call the
same functions, so a figure reads the same everywhere.

- ``when``: a moment, in the country's time zone (on a country's host,
  tenants.middleware makes it the current zone; a task passes ``zone``), with
  the zone's abbreviation: "20 Aug 2026, 09:07 EAT" / "20 août 2026, 09:07 EAT".
- ``day``: a date in the user's language, one format: "20 Aug 2026" /
  "20 août 2026" (core/locale_formats/<language>/formats.py).
- ``month``: a month in the user's language, for chart axes: "Nov 2024" /
  "nov. 2024".
- ``count``: a whole number with the language's thousands separator
  ("12,400" / "12 400").
- ``weight``: kilograms with three decimals and the unit ("1,234.500 kg" /
  "1 234,500 kg").
- ``year``: a year as a year ("2026", never "2,026").

Bottom layer: imports no app of SMS.
"""

import datetime
import functools
from decimal import Decimal, InvalidOperation

from django.core.signals import setting_changed
from django.utils import formats, numberformat, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

EMPTY = "—"


def _blank(value) -> bool:
    return value is None or value == ""


def local(value: datetime.datetime, zone: datetime.tzinfo | None = None) -> datetime.datetime:
    """``value`` in ``zone`` (default: the current zone, the country's during a request)."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return timezone.localtime(value, zone)


def zone_abbreviation(moment: datetime.datetime) -> str:
    """The zone's abbreviation at that moment ("EAT", "WAT", "CAT", "UTC"), or
    its offset ("+03") where the time zone database has no abbreviation."""
    return moment.tzname() or ""


def when(value, *, seconds: bool = False, zone: datetime.tzinfo | None = None) -> str:
    """A moment in the country's time zone, with the zone: "20 Aug 2026, 09:07 EAT"."""
    if _blank(value):
        return EMPTY
    if not isinstance(value, datetime.datetime):
        return day(value)
    moment = local(value, zone)
    pattern = formats.get_format("DATETIME_FORMAT")
    if seconds:
        pattern = pattern.replace("H:i", "H:i:s")
    return f"{formats.date_format(moment, pattern)} {zone_abbreviation(moment)}".strip()


def day(value, *, zone: datetime.tzinfo | None = None) -> str:
    """A date in the user's language ("20 Aug 2026"); a moment gives its day
    in the country's time zone."""
    if _blank(value):
        return EMPTY
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime.datetime):
        value = local(value, zone).date()
    return _day(get_language(), value)


@functools.lru_cache(maxsize=4096)
def _day(language: str | None, value: datetime.date) -> str:
    """A day as ``language`` writes it, kept: a list of 50 items shows a few
    dozen days, each through Django's date formatting once a process rather
    than once a row. ``language`` is the active one (the key, not an argument
    Django's formatting reads)."""
    return formats.date_format(value, "DATE_FORMAT")


def month(value: datetime.date) -> str:
    """A month in the user's language ("Nov 2024" / "nov. 2024")."""
    if _blank(value):
        return EMPTY
    return formats.date_format(value, "M Y")


# Each language's separators and grouping, read once from its formats (the
# dashboard writes ~220 figures: Django's number_format looked the three up
# again for each). Dropped, with the days written (``_day``), when a setting
# changes (tests that override formats), as Django drops its own format cache.
_NUMBERS: dict[str | None, tuple[str, str, object, str]] = {}


def _numbers() -> tuple[str, str, object, str]:
    """(decimal separator, thousands separator, grouping, "%(weight)s kg")
    in the current language."""
    language = get_language()
    known = _NUMBERS.get(language)
    if known is None:
        known = _NUMBERS[language] = (
            formats.get_format("DECIMAL_SEPARATOR", language, use_l10n=True),
            formats.get_format("THOUSAND_SEPARATOR", language, use_l10n=True),
            formats.get_format("NUMBER_GROUPING", language, use_l10n=True),
            _("%(weight)s kg"),
        )
    return known


def _forget_numbers(**kwargs) -> None:
    _NUMBERS.clear()
    _day.cache_clear()


setting_changed.connect(_forget_numbers, dispatch_uid="core.display.numbers")


def _grouped(whole: int, thousands: str, grouping) -> str:
    """A whole number's digits in groups of three with ``thousands`` between
    them (what Django's numberformat does for a grouping of 3), or Django's
    own grouping for any other (e.g. Indian 3, 2, 2)."""
    if grouping == 3:
        text = f"{whole:,}"
        return text if thousands == "," else text.replace(",", thousands)
    return numberformat.format(whole, "", None, grouping, thousands, force_grouping=True)


@functools.cache
def _cutoff(places: int) -> Decimal:
    """Below this, a number shows as 0 (Django's rule: 0.001 for three places, 0.1 for none)."""
    return Decimal("0." + "1".rjust(places, "0"))


def count(value) -> str:
    """A whole number with thousands separators ("12,400"; "12 400" in French)."""
    if _blank(value):
        return EMPTY
    try:
        number = int(value)
    except (TypeError, ValueError):
        return str(value)
    _decimal, thousands, grouping, _kg = _numbers()
    if not grouping:
        return str(number)
    if number < 0:
        return "-" + _grouped(-number, thousands, grouping)
    return _grouped(number, thousands, grouping)


def number(value, places: int = 3) -> str:
    """A decimal number with ``places`` decimals and thousands separators
    (cut, not rounded, beyond them: Django's number_format, which this is)."""
    if _blank(value):
        return EMPTY
    try:
        value = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    decimal, thousands, grouping, _kg = _numbers()
    _sign, digits, exponent = value.as_tuple()
    if (
        places is None
        or grouping != 3
        or not value.is_finite()
        or abs(exponent) + len(digits) > 200
    ):
        return formats.number_format(value, places, use_l10n=True, force_grouping=True)
    if abs(value) < _cutoff(places):
        value = Decimal(0)  # too small to show in any of the places
    text = f"{value:f}"
    sign = ""
    if text[0] == "-":
        sign, text = "-", text[1:]
    whole, _dot, fraction = text.partition(".")
    if places:
        fraction = fraction[:places].ljust(places, "0")
        return f"{sign}{_grouped(int(whole), thousands, 3)}{decimal}{fraction}"
    return sign + _grouped(int(whole), thousands, 3)


def weight(value) -> str:
    """Kilograms with their three decimals (grams) and the unit: "1,234.500 kg"."""
    if _blank(value):
        return EMPTY
    return _numbers()[3] % {"weight": number(value, 3)}


def year(value) -> str:
    """A year as a year: "2026", never "2,026" or "2 026"."""
    if _blank(value):
        return EMPTY
    if isinstance(value, datetime.date):
        value = value.year
    try:
        return str(int(value))
    except (TypeError, ValueError):
        return str(value)
