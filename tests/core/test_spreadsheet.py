"""core.spreadsheet: OWASP's rule for text cells, numbers left numeric."""

import datetime
from decimal import Decimal

import pytest

from core.spreadsheet import CsvWriter, csv_value, neutralised, xlsx_value

PAYLOADS = [
    '=HYPERLINK("http://evil.example","Click")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_that_starts_like_a_formula_gets_a_leading_quote(payload):
    assert neutralised(payload) == "'" + payload
    assert xlsx_value(payload) == "'" + payload
    assert csv_value(payload) == "'" + payload


@pytest.mark.parametrize("text", ["Store X", "", "a=b", "1+1", "'=already text", "ivory - raw"])
def test_other_text_is_left_alone(text):
    assert neutralised(text) == text
    assert csv_value(text) == text


def test_numbers_and_dates_stay_numbers_and_dates_even_when_negative():
    for number in (-5, -2.5, Decimal("-1.500"), 0, 12):
        assert xlsx_value(number) == number
    assert csv_value(Decimal("-1.500")) == "-1.500"
    assert csv_value(Decimal("1E+1")) == "10"
    assert csv_value(-5) == "-5"
    assert csv_value(None) == "" and xlsx_value(None) is None
    day = datetime.date(2025, 1, 2)
    assert xlsx_value(day) == day and csv_value(day) == "2025-01-02"
    # A boolean is text, not a number.
    assert csv_value(True) == "True"


def test_a_lazy_translation_is_text_too():
    from django.utils.functional import lazy

    label = lazy(lambda: "=1+1", str)()
    assert xlsx_value(label) == "'=1+1"


def test_the_writer_neutralises_every_field_and_returns_what_the_file_returns():
    class Echo:
        def write(self, value):
            return value

    line = CsvWriter(Echo()).writerow(["=1+1", -3, Decimal("2.500"), "ok"])
    assert line == "'=1+1,-3,2.500,ok\r\n"
