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
