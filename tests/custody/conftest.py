"""Custody fixtures: the stock register of tests.stock (country XA, sites X
and Y, a store manager per site, HQ, an administrator) plus an auditor, and
helpers to check the running totals against the items themselves."""

from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from accounts.roles import AUDITOR
from custody import services
from stock.models import StockItem, StockTotal
from tests.factories import make_user
from tests.stock.conftest import _media_in_tmp, make_register, register  # noqa: F401


@pytest.fixture
def reg(in_country_a):
    register_ = make_register()
    register_.auditor = make_user(role=AUDITOR, all_sites=True)
    register_.auditor_y = make_user(role=AUDITOR, sites=[register_.site_y])
    return register_


def tusks(reg, count=3, *, site=None, actor=None, weight="10.000"):
    return [
        register(reg, site=site or reg.site_x, actor=actor or reg.manager_x, weight_kg=weight)
        for _ in range(count)
    ]


def assert_totals_exact():
    """StockTotal equals an aggregate over the items, for every (site, type, status)."""
    actual = {
        (row["site_id"], row["item_type_id"], row["status"]): (
            row["n"],
            row["p"],
            row["w"].quantize(Decimal("0.001")),
        )
        for row in StockItem.objects.values("site_id", "item_type_id", "status").annotate(
            n=Count("pk"), p=Sum("pieces"), w=Sum("weight_kg")
        )
    }
    kept = {
        (t.site_id, t.item_type_id, t.status): (t.items, t.pieces, t.weight_kg)
        for t in StockTotal.objects.exclude(items=0)
    }
    assert kept == actual


def total(site, status="in_stock"):
    row = StockTotal.objects.filter(site=site, status=status).aggregate(
        n=Sum("items"), w=Sum("weight_kg")
    )
    return (row["n"] or 0, row["w"] or Decimal("0.000"))


def draft(reg, items, *, actor=None, origin=None, destination=None):
    return services.transfer_create(
        actor=actor or reg.manager_x,
        origin=origin or reg.site_x,
        destination=destination or reg.site_y,
        items=items,
        reason="Consolidation in the central strongroom",
        authority_reference="MIN/2026/14",
    )


def dispatch(reg, transfer, *, actor=None):
    return services.transfer_dispatch(
        actor=actor or reg.manager_x,
        transfer=transfer,
        seal_numbers="S-0001, S-0002",
        courier="Ranger patrol 3",
        vehicle="GK 123 A",
        dispatching_officer="Officer Achieng",
    )


def check(item, *, present=True, seal_intact=True, weight=None, note=""):
    return services.ReceiptCheck(
        item_id=item.pk,
        present=present,
        seal_intact=seal_intact,
        weight_kg=weight if weight is not None else item.weight_kg,
        note=note,
    )


def shown(user, stocktake) -> int:
    """The count a stock-take page shows next to its sign-off button (for
    histories built through the services that sign off what they leave unchecked)."""
    from custody import selectors

    return selectors.stocktake_sign_off_preview(user=user, stocktake=stocktake)["count"]
