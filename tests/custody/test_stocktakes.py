"""Stock-takes through the services: frozen expected list, checks, items
found without a record, sign-off (missing items, items found again), scope."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from custody import selectors, services
from custody.models import StockTakeLine
from ledger.models import LedgerEntry
from stock.models import StockItem
from tests.custody.conftest import assert_totals_exact, register, total, tusks
from tests.stock.conftest import image_bytes, upload

pytestmark = pytest.mark.django_db
D = Decimal


def test_stocktake_with_missing_damaged_and_unexpected_items(reg):
    a, b, c, d = tusks(reg, 4)
    stocktake = services.stocktake_open(actor=reg.auditor, site=reg.site_x)
    # Registered after opening: not on the frozen list.
    late = register(reg)
    lines = selectors.stocktake_lines(stocktake=stocktake)
    assert {ln.item_id for ln in lines} == {a.pk, b.pk, c.pk, d.pk}

    services.stocktake_check(actor=reg.auditor, stocktake=stocktake, item=a, result="found")
    services.stocktake_check(
        actor=reg.manager_x,
        stocktake=stocktake,
        item=b,
        result="damaged",
        weight_kg="9.800",
        note="cracked at the lip",
        photo=upload(image_bytes()),
    )
    services.stocktake_check(actor=reg.auditor, stocktake=stocktake, item=c, result="missing")
    # d is never checked. An item not on the list must be registered instead.
    with pytest.raises(ValidationError):
        services.stocktake_check(actor=reg.auditor, stocktake=stocktake, item=late, result="found")
    added = services.stocktake_register_item(
        actor=reg.manager_x,
        stocktake=stocktake,
        item_type=reg.cut_piece,
        data={"weight_kg": "0.800", "source": "unknown", "length_cm": "15"},
    )
    assert added.expected is False and added.item.site_id == reg.site_x.pk

    report = selectors.stocktake_report(stocktake=stocktake)
    assert report["expected"] == 4
    assert report["found_count"] == 2
    assert [ln.item_id for ln in report["missing"]] == [c.pk]
    assert [ln.item_id for ln in report["unchecked"]] == [d.pk]
    assert [ln.item_id for ln in report["damaged"]] == [b.pk]
    assert [ln.item_id for ln in report["added"]] == [added.item_id]
    assert [(ln.item_id, ln.weight_difference) for ln in report["weight_differences"]] == [
        (b.pk, D("-0.200"))
    ]
    assert StockTakeLine.objects.get(stocktake=stocktake, item=b).photo is not None

    before_in_stock = total(reg.site_x)
    services.stocktake_sign_off(
        actor=reg.auditor, stocktake=stocktake, note="Counted twice", confirm_missing=2
    )
    stocktake.refresh_from_db()
    assert stocktake.status == "signed_off"
    statuses = {i.pk: i.status for i in StockItem.objects.filter(site=reg.site_x)}
    assert statuses[c.pk] == statuses[d.pk] == "missing"
    assert statuses[a.pk] == statuses[b.pk] == statuses[late.pk] == "in_stock"
    assert total(reg.site_x) == (before_in_stock[0] - 2, before_in_stock[1] - D("20.000"))
    assert total(reg.site_x, "missing") == (2, D("20.000"))
    assert_totals_exact()
    events = list(
        LedgerEntry.objects.filter(stocktake_id=stocktake.pk).values_list("event", "item_id")
    )
    assert ("stocktake_missing", c.pk) in events and ("stocktake_missing", d.pk) in events
    assert ("stocktake_checked", b.pk) in events
    # Signed off: nothing more can be recorded.
    with pytest.raises(ValidationError):
        services.stocktake_check(actor=reg.auditor, stocktake=stocktake, item=a, result="found")

    # The next stock-take finds c again: it is back in stock.
    second = services.stocktake_open(actor=reg.manager_x, site=reg.site_x)
    services.stocktake_check(actor=reg.manager_x, stocktake=second, item=c, result="found")
    # a, b, late and the added item were not counted this time.
    services.stocktake_sign_off(actor=reg.manager_x, stocktake=second, confirm_missing=4)
    assert StockItem.objects.get(pk=c.pk).status == "in_stock"
    assert StockItem.objects.get(pk=d.pk).status == "missing"
    assert LedgerEntry.objects.filter(item_id=c.pk, event="stocktake_found").exists()
    assert_totals_exact()


def test_one_open_stocktake_per_site_and_scope(reg):
    services.stocktake_open(actor=reg.manager_x, site=reg.site_x)
    with pytest.raises(ValidationError):
        services.stocktake_open(actor=reg.auditor, site=reg.site_x)
    # Manager X may not count site Y; an HQ officer may not run stock-takes.
    with pytest.raises(ValidationError):
        services.stocktake_open(actor=reg.manager_x, site=reg.site_y)
    with pytest.raises(PermissionDenied):
        services.stocktake_open(actor=reg.hq, site=reg.site_y)
    y_take = services.stocktake_open(actor=reg.auditor_y, site=reg.site_y)
    with pytest.raises(Http404):
        services.stocktake_sign_off(actor=reg.manager_x, stocktake=y_take)
    with pytest.raises(Http404):
        selectors.stocktake_get(user=reg.manager_x, stocktake_id=y_take.pk)
    assert [s.pk for s in selectors.stocktake_list(user=reg.manager_x)] != [y_take.pk]


def test_an_auditor_cannot_add_photos_or_register_items(reg):
    (a,) = tusks(reg, 1)
    stocktake = services.stocktake_open(actor=reg.auditor, site=reg.site_x)
    with pytest.raises(ValidationError) as exc:
        services.stocktake_check(
            actor=reg.auditor,
            stocktake=stocktake,
            item=a,
            result="found",
            photo=upload(image_bytes()),
        )
    assert "photo" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.stocktake_register_item(
            actor=reg.auditor,
            stocktake=stocktake,
            item_type=reg.tusk,
            data={"weight_kg": "3"},
        )
    assert StockTakeLine.objects.filter(stocktake=stocktake).count() == 1


def test_an_item_dispatched_during_the_stocktake_is_not_marked_missing(reg):
    from tests.custody.conftest import dispatch, draft

    (a,) = tusks(reg, 1)
    stocktake = services.stocktake_open(actor=reg.manager_x, site=reg.site_x)
    dispatch(reg, draft(reg, [a]))
    services.stocktake_sign_off(actor=reg.manager_x, stocktake=stocktake)
    assert StockItem.objects.get(pk=a.pk).status == "in_transit"
    assert StockTakeLine.objects.get(stocktake=stocktake, item=a).outcome == "moved"
    assert_totals_exact()


def test_a_reweigh_in_a_stocktake_is_a_finding_not_a_correction(reg, country_a):
    """Decision: a stock-take's measured weight is recorded on its line and
    reported as a difference; the item keeps its registered weight (counters
    may be auditors, who change nothing in the register). Correcting the
    register is a correction, which waits for approval where the country asks."""
    from stock.models import ItemChange, PendingCorrection
    from tenants.models import Country

    Country.objects.filter(pk=country_a.pk).update(corrections_need_approval=True)
    (a,) = tusks(reg, 1)
    stocktake = services.stocktake_open(actor=reg.auditor, site=reg.site_x)
    services.stocktake_check(
        actor=reg.auditor, stocktake=stocktake, item=a, result="found", weight_kg="9,600"
    )
    services.stocktake_sign_off(actor=reg.auditor, stocktake=stocktake)
    assert StockItem.objects.get(pk=a.pk).weight_kg == D("10.000")
    assert not ItemChange.objects.filter(item=a).exists()
    assert not PendingCorrection.objects.exists()
    report = selectors.stocktake_report(stocktake=stocktake)
    assert [(ln.item_id, ln.weight_difference) for ln in report["weight_differences"]] == [
        (a.pk, D("-0.400"))
    ]


# --- Sign-off confirmation (issue 15: one click recorded a whole store missing) ---


def test_sign_off_needs_a_confirmation_naming_what_becomes_missing(reg):
    a, b, c = tusks(reg, 3)
    (piece,) = tusks(reg, 1, weight="2.500")
    stocktake = services.stocktake_open(actor=reg.manager_x, site=reg.site_x)
    services.stocktake_check(actor=reg.manager_x, stocktake=stocktake, item=a, result="found")
    services.stocktake_check(actor=reg.manager_x, stocktake=stocktake, item=b, result="missing")

    preview = selectors.stocktake_sign_off_preview(user=reg.manager_x, stocktake=stocktake)
    # b checked missing, c and piece never checked.
    assert (preview["count"], preview["weight_kg"], preview["unchecked"]) == (3, D("22.500"), 2)
    assert [(r["item_type"], r["count"], r["weight_kg"]) for r in preview["by_type"]] == [
        (reg.tusk, 3, D("22.500"))
    ]

    for wrong in (None, 2, 76):
        with pytest.raises(ValidationError) as exc:
            services.stocktake_sign_off(
                actor=reg.manager_x, stocktake=stocktake, confirm_missing=wrong
            )
        assert "confirm_missing" in exc.value.message_dict
        stocktake.refresh_from_db()
        assert stocktake.status == "open"
        assert StockItem.objects.filter(site=reg.site_x, status="missing").count() == 0
        assert not LedgerEntry.objects.filter(event="stocktake_missing").exists()

    services.stocktake_sign_off(actor=reg.manager_x, stocktake=stocktake, confirm_missing=3)
    # What the preview showed is exactly what became missing.
    assert set(
        StockItem.objects.filter(site=reg.site_x, status="missing").values_list("pk", flat=True)
    ) == {b.pk, c.pk, piece.pk}
    assert total(reg.site_x, "missing") == (preview["count"], preview["weight_kg"])
    assert_totals_exact()


def test_a_stale_confirmation_is_refused_when_more_would_become_missing(reg):
    a, b = tusks(reg, 2)
    stocktake = services.stocktake_open(actor=reg.manager_x, site=reg.site_x)
    services.stocktake_check(actor=reg.manager_x, stocktake=stocktake, item=a, result="found")
    services.stocktake_check(actor=reg.manager_x, stocktake=stocktake, item=b, result="found")
    assert (
        selectors.stocktake_sign_off_preview(user=reg.manager_x, stocktake=stocktake)["count"] == 0
    )
    # Someone else changes a check after the page was shown with nothing missing.
    services.stocktake_check(actor=reg.auditor, stocktake=stocktake, item=b, result="missing")
    with pytest.raises(ValidationError) as exc:
        services.stocktake_sign_off(actor=reg.manager_x, stocktake=stocktake, confirm_missing=0)
    assert "confirm_missing" in exc.value.message_dict
    assert StockItem.objects.get(pk=b.pk).status == "in_stock"


def test_nothing_becoming_missing_needs_no_confirmation(reg):
    (a,) = tusks(reg, 1)
    stocktake = services.stocktake_open(actor=reg.manager_x, site=reg.site_x)
    services.stocktake_check(actor=reg.manager_x, stocktake=stocktake, item=a, result="found")
    services.stocktake_sign_off(actor=reg.manager_x, stocktake=stocktake)
    stocktake.refresh_from_db()
    assert stocktake.status == "signed_off"


def test_the_preview_of_another_sites_stocktake_is_404(reg):
    tusks(reg, 1, site=reg.site_y, actor=reg.manager_y)
    y_take = services.stocktake_open(actor=reg.auditor_y, site=reg.site_y)
    with pytest.raises(Http404):
        selectors.stocktake_sign_off_preview(user=reg.manager_x, stocktake=y_take)
