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
from decimal import Decimal, InvalidOperation

from django.utils import formats, timezone
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
    return formats.date_format(value, "DATE_FORMAT")


def month(value: datetime.date) -> str:
    """A month in the user's language ("Nov 2024" / "nov. 2024")."""
    if _blank(value):
        return EMPTY
    return formats.date_format(value, "M Y")


def count(value) -> str:
    """A whole number with thousands separators ("12,400"; "12 400" in French)."""
    if _blank(value):
        return EMPTY
    try:
        number = int(value)
    except (TypeError, ValueError):
        return str(value)
    return formats.number_format(number, 0, use_l10n=True, force_grouping=True)


def number(value, places: int = 3) -> str:
    """A decimal number with ``places`` decimals and thousands separators."""
    if _blank(value):
        return EMPTY
    try:
        value = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return formats.number_format(value, places, use_l10n=True, force_grouping=True)


def weight(value) -> str:
    """Kilograms with their three decimals (grams) and the unit: "1,234.500 kg"."""
    if _blank(value):
        return EMPTY
    return _("%(weight)s kg") % {"weight": number(value, 3)}


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
