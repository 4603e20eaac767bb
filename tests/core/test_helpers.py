"""The small shared helpers: yes/no words, days of the country's zone, a
service's errors put back on a form."""

import datetime
import zoneinfo

import pytest
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.dates import day_end, day_start
from core.forms import add_service_errors
from core.words import is_yes, yes_no
from tenants.current import country_zone


@pytest.mark.parametrize(
    ("word", "answer"),
    [
        ("yes", True),
        (" Oui ", True),
        ("1", True),
        ("TRUE", True),
        (True, True),
        (1, True),
        ("non", False),
        ("0", False),
        ("off", False),
        (False, False),
        ("", None),
        (None, None),
        ("maybe", None),
    ],
)
def test_yes_and_no_words(word, answer):
    assert yes_no(word) is answer
    assert is_yes(word) is (answer is True)


def test_a_day_starts_at_midnight_in_the_zone():
    nairobi = zoneinfo.ZoneInfo("Africa/Nairobi")
    start = day_start(datetime.date(2025, 3, 4), nairobi)
    assert start == datetime.datetime(2025, 3, 3, 21, 0, tzinfo=datetime.UTC)
    assert day_end(datetime.date(2025, 3, 4), nairobi) - start == datetime.timedelta(days=1)


@pytest.mark.django_db
def test_the_zone_is_the_countrys(country_a):
    country_a.time_zone = "America/La_Paz"
    country_a.save(update_fields=["time_zone"])
    with tenant_context(country_a):
        zone = country_zone()
        assert zone == zoneinfo.ZoneInfo("America/La_Paz")
        # A request on the country's host makes it the current zone (CountryMiddleware).
        with timezone.override(zone):
            assert day_start(datetime.date(2025, 1, 1)).utcoffset() == datetime.timedelta(hours=-4)


class _Form(forms.Form):
    name = forms.CharField()
    site = forms.CharField(label="Store", widget=forms.HiddenInput)
    custom_colour = forms.CharField(label="Colour")


def test_service_errors_go_next_to_their_fields():
    form = _Form(data={"name": "x", "site": "1", "custom_colour": "red"})
    assert form.is_valid()
    add_service_errors(
        form,
        ValidationError(
            {
                "full_name": ["Too short."],
                "site": ["Closed."],
                "colour": ["Not a colour."],
                "elsewhere": ["Something else."],
            }
        ),
        aliases={"full_name": "name", "colour": "custom_colour"},
    )
    assert form.errors["name"] == ["Too short."]
    assert form.errors["custom_colour"] == ["Not a colour."]
    # A hidden field's message goes above the form, saying which field it is about.
    assert form.errors[NON_FIELD_ERRORS] == ["Store: Closed.", "Something else."]


def test_a_service_error_without_fields_goes_above_the_form():
    form = _Form(data={})
    form.is_valid()
    add_service_errors(form, ValidationError("Nothing may change now."))
    assert form.non_field_errors() == ["Nothing may change now."]
