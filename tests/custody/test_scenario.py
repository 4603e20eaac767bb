"""The issue's acceptance scenario, end to end through the services: move
three tusks with a seal, receive two plus one with a wrong weight, resolve
the discrepancy, stock-take with one item hidden, verify the ledger, alter a
row in the database, verify again."""

from decimal import Decimal

import pytest

from custody import selectors, services
from custody.models import Discrepancy
from ledger import chain as ledger
from ledger import selectors as ledger_selectors
from ledger.models import LedgerEntry
from stock.ledger_check import items_verify
from stock.models import StockItem
from tests.custody.conftest import assert_totals_exact, check, dispatch, draft, total, tusks
from tests.database_roles import triggers_off

pytestmark = pytest.mark.django_db


def test_move_receive_resolve_stocktake_verify_tamper_verify(reg):
    a, b, c = tusks(reg, 3, weight="10.000")
    transfer = dispatch(reg, draft(reg, [a, b, c]))
    assert total(reg.site_x, "in_transit") == (3, Decimal("30.000"))

    services.transfer_receive(
        actor=reg.manager_y,
        transfer=transfer,
        checks=[check(a), check(b), check(c, weight="8.750")],
    )
    discrepancy = Discrepancy.objects.get(transfer=transfer)
    assert (discrepancy.item_id, discrepancy.kind) == (c.pk, "weight")
    services.discrepancy_resolve(
        actor=reg.admin,
        discrepancy=discrepancy,
        resolution="accept_new_weight",
        note="Re-weighed in front of two officers",
    )
    assert total(reg.site_y) == (3, Decimal("28.750"))
    assert_totals_exact()

    # Stock-take at Y: b is hidden and not found.
    stocktake = services.stocktake_open(actor=reg.auditor, site=reg.site_y)
    for item in (a, c):
        services.stocktake_check(actor=reg.auditor, stocktake=stocktake, item=item, result="found")
    services.stocktake_sign_off(actor=reg.auditor, stocktake=stocktake, confirm_missing=1)
    assert StockItem.objects.get(pk=b.pk).status == "missing"
    assert selectors.stocktake_report(stocktake=stocktake)["unchecked"][0].item_id == b.pk
    assert total(reg.site_y, "missing") == (1, Decimal("10.000"))
    assert_totals_exact()

    timeline = ledger_selectors.item_timeline(item=c)
    assert timeline["ok"]
    assert [e.entry.event for e in timeline["entries"]] == [
        "registered",
        "dispatched",
        "received",
        "discrepancy",
        "discrepancy_resolved",
        "stocktake_checked",
    ]
    assert ledger.verify_chain().ok
    # Every move, receipt, weight settled and item declared missing agrees
    # with the ledger's replay of the items' fields.
    assert items_verify()[1] == []

    received = LedgerEntry.objects.get(item_id=c.pk, event="received")
    # Someone with the database owner's password (tests/database_roles.py).
    with triggers_off("custody_ledgerentry") as cursor:
        cursor.execute(
            'UPDATE custody_ledgerentry SET payload = payload || \'{"weight_received": "10.000"}\''
            " WHERE id = %s",
            [received.pk],
        )
    result = ledger.verify_chain()
    assert not result.ok and result.problem.sequence == received.sequence
    timeline = ledger_selectors.item_timeline(item=c)
    assert not timeline["ok"]
    assert [e.entry.sequence for e in timeline["entries"] if not e.ok] == [received.sequence]
