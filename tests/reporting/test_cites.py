"""CITES declarations (reporting.cites) against the hand-built history."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from reporting.cites import class_of, declaration
from reporting.figures import ADDED, REMOVED, TRANSIT, Scope
from stock.models import StockItem

pytestmark = pytest.mark.django_db


def by_class(result):
    return {f.key: f for f in result.classes}


def test_ivory_2025_held_at_local_year_end(history):
    result = declaration(kind="ivory", year=2025, scope=Scope())
    classes = by_class(result)
    whole = classes["raw_whole"]
    # A (10, moved to Y) and D (15, received 2024) from seizures; B (19.5 after correction).
    assert whole.by_source["seizure"].as_tuple() == (2, 2, Decimal("25.000"))
    assert whole.by_source["natural_mortality"].as_tuple() == (1, 1, Decimal("19.500"))
    # C is in transit at 23:59:59 on 31 December, Nairobi time: still held.
    assert classes["raw_cut"].total.as_tuple() == (1, 1, Decimal("2.000"))
    assert classes["worked"].total.as_tuple() == (0, 0, Decimal("0.000"))
    assert result.total.as_tuple() == (4, 4, Decimal("46.500"))
    assert result.previous.as_tuple() == (1, 1, Decimal("15.000"))
    assert result.change.as_tuple() == (3, 3, Decimal("31.500"))
    assert result.marked == 4
    assert sorted(row.sms_number for row in result.annex) == sorted(
        i.sms_number for i in (history.A, history.B, history.C, history.D)
    )
    assert {row.mark for row in result.annex} == {
        i.cites_mark for i in (history.A, history.B, history.C, history.D)
    }
    # In the annex, C's place is "in transit"; the others are at a site.
    places = {row.sms_number: row.place for row in result.annex}
    assert places.pop(history.C.sms_number) == TRANSIT
    assert all(isinstance(place, int) for place in places.values())
    # Largest first: B (20 kg, natural mortality), then A and C (12 kg, seizures),
    # then B's correction; A's transfer X -> Y nets out in the country.
    assert [(line, m.weight_kg) for line, m in result.movements] == [
        ((ADDED, "natural_mortality"), Decimal("20.000")),
        ((ADDED, "seizure"), Decimal("12.000")),
        (("corrected", ""), Decimal("-0.500")),
    ]
    assert result.missing.items == 0


def test_pangolin_2025_destroyed_before_year_end(history):
    result = declaration(kind="pangolin", year=2025, scope=Scope())
    assert result.total.as_tuple() == (0, 0, Decimal("0.000"))
    lines = dict(result.movements)
    assert lines[(ADDED, "seizure")].as_tuple() == (1, 500, Decimal("50.000"))
    assert lines[(REMOVED, "destroyed")].as_tuple() == (-1, -500, Decimal("-50.000"))


def test_store_manager_declares_only_their_site(history):
    result = declaration(kind="ivory", year=2025, scope=Scope.of_user(history.reg.manager_x))
    assert result.total.as_tuple() == (1, 1, Decimal("19.500"))  # B, at X
    assert [row.sms_number for row in result.annex] == [history.B.sms_number]


def test_declaration_equals_items_held_per_type_and_source(history):
    """This year's declaration (to date) against the register itself."""
    year = datetime.date.today().year
    result = declaration(kind="ivory", year=year, scope=Scope())
    declared = defaultdict(lambda: (0, 0, Decimal("0.000")))
    for figures in result.classes:
        for source, measure in figures.by_source.items():
            declared[(figures.key, source)] = measure.as_tuple()
    held = defaultdict(lambda: (0, 0, Decimal("0.000")))
    rows = (
        StockItem.objects.filter(
            item_type__category__kind="ivory", status__in=["in_stock", "in_transit"]
        )
        .values("item_type", "source")
        .annotate(n=Count("pk"), p=Sum("pieces"), w=Sum("weight_kg"))
    )
    from stock.models import ItemType

    for row in rows:
        key = (class_of(ItemType.objects.get(pk=row["item_type"]), "ivory"), row["source"])
        n, p, w = held[key]
        held[key] = (n + row["n"], p + row["p"], w + row["w"])
    assert dict(declared) == dict(held)
    assert result.total.as_tuple() == (3, 3, Decimal("32.000"))


def test_the_declared_class_decides_not_the_code(history):
    # A type whose code says "cut piece" but whose protocol declares it worked.
    history.reg.cut_piece.cites_class = "ivory_worked"
    history.reg.cut_piece.save(update_fields=["cites_class"])
    result = declaration(kind="ivory", year=2025, scope=Scope())
    assert by_class(result)["worked"].total.as_tuple() == (1, 1, Decimal("2.000"))
    assert by_class(result)["raw_cut"].total.items == 0
