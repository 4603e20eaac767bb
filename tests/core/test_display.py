"""Times, dates and numbers as the country writes them (core.display and the
sms_format template filters): one set, used by pages, PDFs and spreadsheets."""

import datetime
import zoneinfo
from decimal import Decimal

from django.template import Context, Template
from django.utils import timezone, translation

from core import display

NAIROBI = zoneinfo.ZoneInfo("Africa/Nairobi")  # EAT, UTC+3
MOMENT = datetime.datetime(2026, 8, 20, 6, 7, 12, tzinfo=datetime.UTC)
NBSP = "\xa0"


def test_a_moment_is_in_the_country_s_zone_with_its_abbreviation():
    with translation.override("en"), timezone.override(NAIROBI):
        assert display.when(MOMENT) == "20 Aug 2026, 09:07 EAT"
        assert display.when(MOMENT, seconds=True) == "20 Aug 2026, 09:07:12 EAT"
    with translation.override("fr"), timezone.override(NAIROBI):
        assert display.when(MOMENT) == "20 août 2026, 09:07 EAT"
    # A task passes the zone it means.
    with translation.override("en"):
        assert display.when(MOMENT, zone=zoneinfo.ZoneInfo("Africa/Kinshasa")).endswith("07:07 WAT")


def test_a_date_has_one_format_per_language_and_a_moment_gives_the_country_s_day():
    with translation.override("en"):
        assert display.day(datetime.date(2026, 9, 3)) == "3 Sep 2026"
        assert display.day("2026-09-03") == "3 Sep 2026"
        late = datetime.datetime(2026, 9, 3, 22, 30, tzinfo=datetime.UTC)
        assert display.day(late, zone=NAIROBI) == "4 Sep 2026"
    with translation.override("fr"):
        assert display.day(datetime.date(2026, 9, 3)) == "3 sept. 2026"


def test_counts_weights_and_years():
    with translation.override("en"):
        assert display.count(12400) == "12,400"
        assert display.weight(Decimal("1234.5")) == "1,234.500 kg"
        assert display.year(2026) == "2026"
    with translation.override("fr"):
        assert display.count(12400) == f"12{NBSP}400"
        assert display.weight(Decimal("1234.5")) == f"1{NBSP}234,500 kg"
        assert display.year(2026) == "2026"
    assert display.count(None) == display.weight("") == display.when(None) == "—"


def test_the_template_filters_are_the_same_functions():
    template = Template(
        "{% load sms_format %}{{ at|when }}|{{ at|when:'seconds' }}|{{ on|day }}|"
        "{{ n|count }}|{{ kg|weight }}|{{ y|year }}"
    )
    context = Context(
        {"at": MOMENT, "on": datetime.date(2026, 8, 20), "n": 1500, "kg": "2.5", "y": 2022}
    )
    with translation.override("en"), timezone.override(NAIROBI):
        assert template.render(context) == (
            "20 Aug 2026, 09:07 EAT|20 Aug 2026, 09:07:12 EAT|20 Aug 2026|1,500|2.500 kg|2022"
        )


def test_counts_and_numbers_are_what_django_s_number_format_writes():
    """display.count/number read each language's separators once (a faster
    path than Django's number_format): the text must stay Django's, cut (not
    rounded) decimals, tiny values as 0 and negative numbers included."""
    from django.utils import formats

    values = [0, 7, -7, 999, 1000, -1000, 1234567, 10**15, Decimal("-0"), Decimal("-0.0004")]
    values += [Decimal("0.0005"), Decimal("1234.5678"), Decimal("-98765.4321"), Decimal("1E+5")]
    values += [Decimal("0.05"), Decimal("1e-7"), 2.5, Decimal("12345678.999999")]
    for language in ("en", "fr", "pt"):
        with translation.override(language):
            for value in values:
                if value == int(value):
                    expected = formats.number_format(int(value), 0, True, True)
                    assert display.count(value) == expected, (language, value)
                for places in (0, 1, 3):
                    expected = formats.number_format(Decimal(str(value)), places, True, True)
                    assert display.number(value, places) == expected, (language, value, places)


def test_numbers_and_days_kept_are_dropped_when_a_setting_changes(settings):
    """The separators and days kept per language are dropped when a setting
    changes (tests overriding formats), as Django drops its own format cache."""
    with translation.override("en"):
        assert display.count(1234567) == "1,234,567"
        assert display.day(datetime.date(2026, 8, 20)) == "20 Aug 2026"
        assert display._NUMBERS and display._day.cache_info().currsize
        settings.USE_THOUSAND_SEPARATOR = not settings.USE_THOUSAND_SEPARATOR
        assert not display._NUMBERS and not display._day.cache_info().currsize
        assert display.count(1234567) == "1,234,567"
