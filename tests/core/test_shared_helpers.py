"""The shared helpers (core): what every app relies on them to do."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.decimals import decimal_text, parse_decimal
from core.errors import raise_errors
from core.jsonable import jsonable


def test_a_decimal_comma_is_a_decimal_point_and_anything_else_is_refused():
    assert parse_decimal(" 12,5 ") == Decimal("12.5")
    assert parse_decimal(3) == Decimal("3")
    assert decimal_text(" 0,125") == "0.125"
    for bad in ("", "twelve", "1,2,3", "NaN", "Infinity", None):
        with pytest.raises(ValueError):
            parse_decimal(bad)


def test_jsonable_gives_what_a_json_column_gives_back():
    key = uuid.uuid4()
    value = {"w": Decimal("9.500"), "d": datetime.date(2026, 1, 2), "u": key, "n": [None, 1]}
    assert jsonable(value) == {"w": "9.500", "d": "2026-01-02", "u": str(key), "n": [None, 1]}


@pytest.mark.django_db
def test_jsonable_writes_model_instances_as_asked(in_country_a):
    from tests.factories import SiteFactory

    site = SiteFactory(code="site-j")
    assert jsonable({"site": site}) == {"site": site.pk}
    assert jsonable(site, model=lambda s: s.code) == "site-j"


def test_collected_errors_are_raised_together_or_not_at_all():
    raise_errors({})
    with pytest.raises(ValidationError) as exc:
        raise_errors({"a": ["one"], "b": ["two"]})
    assert exc.value.message_dict == {"a": ["one"], "b": ["two"]}
