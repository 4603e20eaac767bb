"""Demo stock: registered through the services, totals match the items."""

import pytest
from django.db.models import Count, Sum

from stock.demo import seed_demo_stock
from stock.models import ItemPhoto, StockItem, StockTotal

# Provisioning creates country schemas: it runs as the database owner
# (core.dbroles; tests/database_roles.py).
pytestmark = [pytest.mark.django_db, pytest.mark.database_owner]


def test_demo_stock_is_varied_and_its_totals_match(reg, country_a):
    assert seed_demo_stock(country=country_a, count=60, photo_share=0.2) == 60
    items = StockItem.objects.all()
    assert items.count() == 60
    assert items.values("site").distinct().count() == 2
    assert items.values("item_type").distinct().count() == 3
    assert items.filter(status="archived").count() == 2
    assert ItemPhoto.objects.exists()
    expected = {
        (r["site"], r["item_type"], r["status"]): (r["n"], r["p"], r["w"])
        for r in items.values("site", "item_type", "status").annotate(
            n=Count("id"), p=Sum("pieces"), w=Sum("weight_kg")
        )
    }
    actual = {
        (t.site_id, t.item_type_id, t.status): (t.items, t.pieces, t.weight_kg)
        for t in StockTotal.objects.filter(items__gt=0)
    }
    assert actual == expected
    # Running it again adds nothing (demo_setup runs on every start).
    assert seed_demo_stock(country=country_a, count=60) == 0
    assert StockItem.objects.count() == 60


def test_demo_sources_are_plausible(reg, country_a):
    seed_demo_stock(country=country_a, count=60, photo_share=0)
    items = StockItem.objects.select_related("item_type__category")
    ivory = items.filter(item_type__category__kind="ivory")
    assert ivory.exists()
    assert not ivory.filter(source="dehorning").exists()
    assert set(ivory.values_list("source", flat=True)) <= {
        "seizure",
        "natural_mortality",
        "management",
        "surrender",
    }
    # Seizures carry their case reference.
    assert not items.filter(source="seizure", case_reference="").exists()
