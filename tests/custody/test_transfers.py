"""Transfers through the services: draft, dispatch, receipt (full, partial,
with discrepancies), cancel, site scope, and the running totals at each step."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from custody import services
from custody.models import Discrepancy, Transfer, TransferItem
from ledger.models import LedgerEntry
from stock.models import ItemChange, StockItem
from tests.custody.conftest import (
    assert_totals_exact,
    check,
    dispatch,
    draft,
    total,
    tusks,
)

pytestmark = pytest.mark.django_db
D = Decimal


def _refresh(*items):
    return [StockItem.objects.get(pk=i.pk) for i in items]


def test_dispatch_then_full_receipt_moves_items_and_totals(reg):
    a, b, c = tusks(reg)
    transfer = draft(reg, [a, b, c])
    assert transfer.status == "draft" and transfer.reference.startswith("TR-")
    # A draft changes nothing yet.
    assert total(reg.site_x) == (3, D("30.000"))
    dispatch(reg, transfer)
    assert {i.status for i in _refresh(a, b, c)} == {"in_transit"}
    assert total(reg.site_x) == (0, D("0.000"))
    assert total(reg.site_x, "in_transit") == (3, D("30.000"))
    assert_totals_exact()

    services.transfer_receive(
        actor=reg.manager_y, transfer=transfer, checks=[check(a), check(b), check(c)]
    )
    transfer.refresh_from_db()
    assert transfer.status == "received" and transfer.completed_at
    assert {(i.site_id, i.status) for i in _refresh(a, b, c)} == {(reg.site_y.pk, "in_stock")}
    assert total(reg.site_y) == (3, D("30.000"))
    assert total(reg.site_x, "in_transit") == (0, D("0.000"))
    assert not Discrepancy.objects.filter(transfer=transfer).exists()
    assert_totals_exact()
    events = list(LedgerEntry.objects.filter(item_id=a.pk).values_list("event", "site_id"))
    assert events == [
        ("registered", reg.site_x.pk),
        ("dispatched", reg.site_x.pk),
        ("received", reg.site_y.pk),
    ]


def test_partial_receipt_leaves_the_rest_in_transit(reg):
    a, b, c = tusks(reg)
    transfer = dispatch(reg, draft(reg, [a, b, c]))
    services.transfer_receive(actor=reg.manager_y, transfer=transfer, checks=[check(a)])
    transfer.refresh_from_db()
    assert transfer.status == "partially_received"
    assert [i.status for i in _refresh(a, b, c)] == ["in_stock", "in_transit", "in_transit"]
    assert total(reg.site_y) == (1, D("10.000"))
    assert total(reg.site_x, "in_transit") == (2, D("20.000"))
    assert_totals_exact()
    # Receiving an item twice is refused.
    with pytest.raises(ValidationError):
        services.transfer_receive(actor=reg.manager_y, transfer=transfer, checks=[check(a)])
    services.transfer_receive(actor=reg.manager_y, transfer=transfer, checks=[check(b), check(c)])
    transfer.refresh_from_db()
    assert transfer.status == "received"
    assert_totals_exact()


def test_weight_beyond_tolerance_raises_a_discrepancy_the_administrator_resolves(reg):
    a, b = tusks(reg, 2)
    transfer = dispatch(reg, draft(reg, [a, b]))
    # 1 % tolerance by default: 10.050 kg is within it, 9.500 kg is not.
    services.transfer_receive(
        actor=reg.manager_y,
        transfer=transfer,
        checks=[check(a, weight="10.050"), check(b, weight="9.500")],
    )
    discrepancy = Discrepancy.objects.get(transfer=transfer)
    assert discrepancy.kind == "weight" and discrepancy.item_id == b.pk
    assert discrepancy.details["weight_received"] == "9.500"
    assert discrepancy.details["difference_percent"] == "5.00"
    # Received all the same: the item is at the destination with its old weight until decided.
    assert _refresh(b)[0].weight_kg == D("10.000")
    with pytest.raises(PermissionDenied):
        services.discrepancy_resolve(
            actor=reg.manager_y,
            discrepancy=discrepancy,
            resolution="accept_new_weight",
            note="x",
        )
    with pytest.raises(ValidationError) as exc:
        services.discrepancy_resolve(
            actor=reg.admin, discrepancy=discrepancy, resolution="mark_missing", note=""
        )
    assert set(exc.value.message_dict) == {"resolution", "note"}
    services.discrepancy_resolve(
        actor=reg.admin,
        discrepancy=discrepancy,
        resolution="accept_new_weight",
        note="Dried out; weighed twice on the calibrated scale",
    )
    b = _refresh(b)[0]
    assert b.weight_kg == D("9.500")
    assert total(reg.site_y) == (2, D("19.500"))
    assert ItemChange.objects.get(item=b, field="weight_kg").new_value == "9.500"
    resolved = LedgerEntry.objects.filter(item_id=b.pk).order_by("-sequence").first()
    assert resolved.event == "discrepancy_resolved"
    assert resolved.payload["new_weight"] == "9.500"
    assert_totals_exact()
    with pytest.raises(ValidationError):
        services.discrepancy_resolve(
            actor=reg.admin, discrepancy=discrepancy, resolution="keep_weight", note="again"
        )


def test_country_tolerance_setting_is_used(reg):
    services.settings_update(actor=reg.admin, transfer_weight_tolerance_percent="10")
    (a,) = tusks(reg, 1)
    transfer = dispatch(reg, draft(reg, [a]))
    services.transfer_receive(
        actor=reg.manager_y, transfer=transfer, checks=[check(a, weight="9.500")]
    )
    assert not Discrepancy.objects.filter(transfer=transfer).exists()


def test_broken_seal_and_absent_item_raise_discrepancies(reg):
    a, b = tusks(reg, 2)
    transfer = dispatch(reg, draft(reg, [a, b]))
    services.transfer_receive(
        actor=reg.manager_y,
        transfer=transfer,
        checks=[check(a, seal_intact=False, note="seal S-0002 cut"), check(b, present=False)],
    )
    kinds = dict(Discrepancy.objects.filter(transfer=transfer).values_list("item_id", "kind"))
    assert kinds == {a.pk: "seal", b.pk: "missing_item"}
    transfer.refresh_from_db()
    # The absent item is still on its way until an administrator decides.
    assert transfer.status == "partially_received"
    assert _refresh(b)[0].status == "in_transit"
    missing = Discrepancy.objects.get(kind="missing_item", transfer=transfer)
    services.discrepancy_resolve(
        actor=reg.admin, discrepancy=missing, resolution="mark_missing", note="Police report 7"
    )
    b = _refresh(b)[0]
    assert b.status == "missing"
    assert total(reg.site_x, "missing") == (1, D("10.000"))
    transfer.refresh_from_db()
    assert transfer.status == "received"
    # The item is free again: no open transfer holds it.
    assert not TransferItem.objects.filter(item=b, open=True).exists()
    assert_totals_exact()


def test_an_absent_item_found_later_is_received_at_the_destination(reg):
    (a,) = tusks(reg, 1)
    transfer = dispatch(reg, draft(reg, [a]))
    services.transfer_receive(
        actor=reg.manager_y, transfer=transfer, checks=[check(a, present=False)]
    )
    missing = Discrepancy.objects.get(transfer=transfer)
    services.discrepancy_resolve(
        actor=reg.admin,
        discrepancy=missing,
        resolution="found",
        note="Left in the vehicle; delivered next day",
        weight_kg="10.000",
    )
    a = _refresh(a)[0]
    assert (a.site_id, a.status) == (reg.site_y.pk, "in_stock")
    transfer.refresh_from_db()
    assert transfer.status == "received"
    assert_totals_exact()


def test_items_found_later_or_lost_agree_with_the_ledger(reg):
    # The weight settled at "found" goes through the correction path without a
    # correction entry of its own: the discrepancy_resolved entry carries it.
    from stock.ledger_check import items_verify

    found, lost = tusks(reg, 2)
    transfer = dispatch(reg, draft(reg, [found, lost]))
    services.transfer_receive(
        actor=reg.manager_y,
        transfer=transfer,
        checks=[check(found, present=False), check(lost, present=False)],
    )
    for discrepancy in Discrepancy.objects.filter(transfer=transfer):
        if discrepancy.item_id == found.pk:
            services.discrepancy_resolve(
                actor=reg.admin,
                discrepancy=discrepancy,
                resolution="found",
                note="Left in the vehicle",
                weight_kg="9.500",
            )
        else:
            services.discrepancy_resolve(
                actor=reg.admin, discrepancy=discrepancy, resolution="mark_missing", note="Gone"
            )
    found, lost = _refresh(found, lost)
    assert (found.site_id, found.status, str(found.weight_kg)) == (
        reg.site_y.pk,
        "in_stock",
        "9.500",
    )
    assert lost.status == "missing"
    assert items_verify()[1] == []


def test_found_without_a_weight_never_signs_a_weight_changed_behind_the_ledger(reg):
    # Someone with the database password lowers an absent tusk's weight; the
    # administrator then resolves it as found without weighing it. The signed
    # entry must not take the row's (tampered) weight as recorded: the item
    # check still names the item.
    from django.db import connection

    from stock.ledger_check import items_verify

    (tusk,) = tusks(reg, 1)
    transfer = dispatch(reg, draft(reg, [tusk]))
    services.transfer_receive(
        actor=reg.manager_y, transfer=transfer, checks=[check(tusk, present=False)]
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE stock_stockitem SET weight_kg = 0.5 WHERE id = %s", [tusk.pk])
    services.discrepancy_resolve(
        actor=reg.admin,
        discrepancy=Discrepancy.objects.get(transfer=transfer),
        resolution="found",
        note="Left in the vehicle",
    )
    entry = LedgerEntry.objects.filter(event="discrepancy_resolved", item_id=tusk.pk).get()
    assert entry.payload.get("weight_kg") is None
    assert [(m.sms_number, m.field) for m in items_verify()[1]] == [(tusk.sms_number, "weight_kg")]


def test_cancel_only_before_dispatch_and_frees_the_items(reg):
    a, b = tusks(reg, 2)
    transfer = draft(reg, [a])
    with pytest.raises(ValidationError) as exc:
        draft(reg, [a, b])
    assert "already in transfer" in str(exc.value)
    with pytest.raises(ValidationError):
        services.transfer_cancel(actor=reg.manager_x, transfer=transfer, reason="")
    services.transfer_cancel(actor=reg.manager_x, transfer=transfer, reason="Plan changed")
    transfer.refresh_from_db()
    assert transfer.status == "cancelled"
    with pytest.raises(ValidationError):
        dispatch(reg, transfer)
    second = dispatch(reg, draft(reg, [a, b]))
    with pytest.raises(ValidationError):
        services.transfer_cancel(actor=reg.manager_x, transfer=second, reason="Too late")
    assert_totals_exact()


def test_draft_validation_names_the_fields(reg):
    (a,) = tusks(reg, 1)
    (y_item,) = tusks(reg, 1, site=reg.site_y, actor=reg.manager_y)
    with pytest.raises(ValidationError) as exc:
        services.transfer_create(
            actor=reg.manager_x,
            origin=reg.site_x,
            destination=reg.site_x,
            items=[],
            reason=" ",
            authority_reference="",
        )
    assert set(exc.value.message_dict) == {
        "destination",
        "items",
        "reason",
        "authority_reference",
    }
    with pytest.raises(ValidationError) as exc:
        draft(reg, [a, y_item])
    assert y_item.sms_number in str(exc.value.message_dict["items"])


def test_only_the_origin_dispatches_and_only_the_destination_receives(reg):
    a, b = tusks(reg, 2)
    # Manager Y can't send X's items, nor an HQ officer (no permission).
    with pytest.raises(ValidationError):
        draft(reg, [a], actor=reg.manager_y)
    with pytest.raises(PermissionDenied):
        draft(reg, [a], actor=reg.hq)
    transfer = draft(reg, [a, b])
    with pytest.raises(PermissionDenied):
        dispatch(reg, transfer, actor=reg.manager_y)
    dispatch(reg, transfer)
    with pytest.raises(PermissionDenied):
        services.transfer_receive(actor=reg.manager_x, transfer=transfer, checks=[check(a)])
    # A manager of a third site doesn't even see it.
    from accounts.roles import STORE_MANAGER
    from tests.factories import SiteFactory, make_user

    site_z = SiteFactory(code="site-z")
    manager_z = make_user(role=STORE_MANAGER, sites=[site_z])
    with pytest.raises(Http404):
        services.transfer_receive(actor=manager_z, transfer=transfer, checks=[check(a)])
    with pytest.raises(Http404):
        services.transfer_cancel(actor=manager_z, transfer=transfer, reason="x")
    assert Transfer.objects.get(pk=transfer.pk).status == "dispatched"


def test_items_not_in_stock_at_the_origin_cannot_be_sent(reg):
    (a,) = tusks(reg, 1)
    transfer = dispatch(reg, draft(reg, [a]))
    services.transfer_receive(actor=reg.manager_y, transfer=transfer, checks=[check(a)])
    # Now at Y: X may no longer send it.
    with pytest.raises(ValidationError):
        draft(reg, [a])
    back = dispatch(
        reg,
        draft(reg, [a], actor=reg.manager_y, origin=reg.site_y, destination=reg.site_x),
        actor=reg.manager_y,
    )
    assert back.status == "dispatched"
    assert_totals_exact()


def test_a_discrepancy_resolution_applies_at_once_where_corrections_need_approval(reg, country_a):
    """Settling a discrepancy is the decision an approval would be: it applies
    at once even in a country that wants corrections approved, and even for a
    resolver who may not approve corrections; each weight change is in the
    item's history."""
    from django.contrib.auth.models import Permission

    from stock.models import PendingCorrection
    from tenants.models import Country
    from tests.factories import make_user

    Country.objects.filter(pk=country_a.pk).update(corrections_need_approval=True)
    resolver = make_user(all_sites=True)
    resolver.user_permissions.add(
        Permission.objects.get(content_type__app_label="custody", codename="resolve_discrepancy")
    )
    assert not resolver.has_perm("administration.approve_correction")
    a, b = tusks(reg, 2)
    transfer = dispatch(reg, draft(reg, [a, b]))
    services.transfer_receive(
        actor=reg.manager_y,
        transfer=transfer,
        checks=[check(a, weight="9.000"), check(b, present=False)],
    )
    weight = Discrepancy.objects.get(item=a, kind="weight")
    services.discrepancy_resolve(
        actor=resolver, discrepancy=weight, resolution="accept_new_weight", note="Dried out"
    )
    missing = Discrepancy.objects.get(item=b, kind="missing_item")
    services.discrepancy_resolve(
        actor=resolver,
        discrepancy=missing,
        resolution="found",
        note="In the next crate",
        weight_kg="9,750",
    )
    a, b = _refresh(a, b)
    assert (a.weight_kg, b.weight_kg) == (D("9.000"), D("9.750"))
    assert (b.site_id, b.status) == (reg.site_y.pk, "in_stock")
    changes = ItemChange.objects.filter(item__in=[a, b]).order_by("item_id")
    assert sorted((c.item_id, c.old_value, c.new_value, c.changed_by) for c in changes) == sorted(
        [(a.pk, "10.000", "9.000", resolver), (b.pk, "10.000", "9.750", resolver)]
    )
    assert ItemChange.objects.get(item=b).reason.startswith(
        f"Weight when found, transfer {transfer.reference}"
    )
    assert not PendingCorrection.objects.exists()
    assert total(reg.site_y) == (2, D("18.750"))
    assert_totals_exact()
    # One ledger entry per decision (no correction entry besides it).
    assert not LedgerEntry.objects.filter(event="correction").exists()
