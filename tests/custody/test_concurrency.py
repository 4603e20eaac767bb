"""Concurrency, with committed data and one database connection per thread:
two people sending the same item at the same moment, and ledger appends
racing each other."""

import threading
import uuid

import pgtrigger
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.roles import STORE_MANAGER
from custody import services
from custody.models import (
    Discrepancy,
    StockTake,
    StockTakeLine,
    Transfer,
    TransferItem,
)
from ledger import chain as ledger
from ledger.models import LedgerEntry, LedgerHead
from stock import services as stock_services
from stock.models import ItemNumberSerial, StockItem, StockTotal
from tests.database_roles import database_owner
from tests.factories import ItemCategoryFactory, ItemTypeFactory, SiteFactory, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def committed(country_a):
    """Committed rows in XA, removed afterwards (the flush that ends a
    transaction=True test only reaches the public schema). Ledger entries
    stay: they are a valid part of the chain and reference ids only."""
    suffix = uuid.uuid4().hex[:8]
    with schema_context(country_a.schema_name):
        serials = dict(ItemNumberSerial.objects.values_list("year", "last_serial"))
        origin = SiteFactory(code=f"cc-x-{suffix}")
        dest_1 = SiteFactory(code=f"cc-y-{suffix}")
        dest_2 = SiteFactory(code=f"cc-z-{suffix}")
        category = ItemCategoryFactory(code=f"cc-{suffix}")
        # No CITES marking: the mark series are not what is raced here.
        item_type = ItemTypeFactory(code=f"cc-type-{suffix}", category=category)
        manager = make_user(role=STORE_MANAGER, sites=[origin])
        item = stock_services.item_register(
            actor=manager, site=origin, item_type=item_type, data={"weight_kg": "5"}
        )
    yield {
        "origin": origin,
        "destinations": [dest_1, dest_2],
        "item_type": item_type,
        "manager": manager,
        "item": item,
    }
    # Removing never-delete rows: the database owner's work (tests/database_roles.py).
    with (
        database_owner(),
        schema_context(country_a.schema_name),
        pgtrigger.ignore(
            "stock.StockItem:stockitem_no_delete",
            "custody.Transfer:transfer_no_delete",
            "custody.TransferItem:transferitem_no_delete",
            "custody.Discrepancy:discrepancy_no_delete",
            "custody.StockTake:stocktake_no_delete",
            "custody.StockTakeLine:stocktakeline_no_delete",
        ),
    ):
        sites = [origin, dest_1, dest_2]
        StockTakeLine.objects.filter(stocktake__site__in=sites).delete()
        StockTake.objects.filter(site__in=sites).delete()
        Discrepancy.objects.filter(transfer__origin__in=sites).delete()
        TransferItem.objects.filter(transfer__origin__in=sites).delete()
        Transfer.objects.filter(origin__in=sites).delete()
        StockTotal.objects.filter(site__in=sites).delete()
        StockItem.objects.filter(site__in=sites).delete()
        for year, last in serials.items():
            ItemNumberSerial.objects.filter(year=year).update(last_serial=last)
        ItemNumberSerial.objects.exclude(year__in=serials).delete()
        manager.delete()
        item_type.delete()
        category.delete()
        for site in sites:
            site.delete()


def _race(country, workers, work):
    barrier = threading.Barrier(workers)
    outcomes = []

    def run(index):
        try:
            with schema_context(country.schema_name):
                barrier.wait(timeout=30)
                outcomes.append(("ok", work(index)))
        except ValidationError as exc:
            outcomes.append(("refused", exc))
        except Exception as exc:  # any other error fails the test below
            outcomes.append(("error", exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [o for o in outcomes if o[0] == "error"], outcomes
    return outcomes


def _send(c, destination):
    manager = User.objects.get(pk=c["manager"].pk)
    transfer = services.transfer_create(
        actor=manager,
        origin=c["origin"],
        destination=destination,
        items=[c["item"]],
        reason="race",
        authority_reference="R-1",
    )
    return services.transfer_dispatch(
        actor=manager,
        transfer=transfer,
        seal_numbers="S1",
        courier="C",
        dispatching_officer="O",
    )


def test_two_people_sending_the_same_item_at_once_cannot_both_succeed(country_a, committed):
    c = committed
    outcomes = _race(country_a, 2, lambda i: _send(c, c["destinations"][i]).pk)
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"]
    with schema_context(country_a.schema_name):
        assert StockItem.objects.get(pk=c["item"].pk).status == "in_transit"
        assert TransferItem.objects.filter(item=c["item"], open=True).count() == 1
        assert LedgerEntry.objects.filter(item_id=c["item"].pk, event="dispatched").count() == 1
        in_transit = StockTotal.objects.get(
            site=c["origin"], item_type=c["item_type"], status="in_transit"
        )
        assert in_transit.items == 1
        assert ledger.verify_chain().ok


def test_two_dispatches_of_the_same_draft_move_the_items_once(country_a, committed):
    c = committed
    with schema_context(country_a.schema_name):
        transfer = services.transfer_create(
            actor=c["manager"],
            origin=c["origin"],
            destination=c["destinations"][0],
            items=[c["item"]],
            reason="race",
            authority_reference="R-2",
        )

    def work(_index):
        return services.transfer_dispatch(
            actor=User.objects.get(pk=c["manager"].pk),
            transfer=Transfer.objects.get(pk=transfer.pk),
            seal_numbers="S1",
            courier="C",
            dispatching_officer="O",
        ).pk

    outcomes = _race(country_a, 2, work)
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"]
    with schema_context(country_a.schema_name):
        assert LedgerEntry.objects.filter(item_id=c["item"].pk, event="dispatched").count() == 1
        in_stock = StockTotal.objects.get(
            site=c["origin"], item_type=c["item_type"], status="in_stock"
        )
        assert in_stock.items == 0


def test_concurrent_appends_keep_the_chain_linear_and_gapless(country_a, committed):
    c = committed
    with schema_context(country_a.schema_name):
        start = LedgerHead.objects.get(pk=1).last_sequence

    def work(_index):
        return stock_services.item_register(
            actor=User.objects.get(pk=c["manager"].pk),
            site=c["origin"],
            item_type=c["item_type"],
            data={"weight_kg": "1"},
        ).pk

    outcomes = _race(country_a, 6, work)
    assert [kind for kind, _ in outcomes] == ["ok"] * 6
    with schema_context(country_a.schema_name):
        sequences = list(
            LedgerEntry.objects.filter(sequence__gt=start)
            .order_by("sequence")
            .values_list("sequence", flat=True)
        )
        assert sequences == list(range(start + 1, start + 7))
        assert ledger.verify_chain().ok
