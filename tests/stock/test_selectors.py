"""Reads: site scope and country walls, filters, search, history, dashboard totals."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.http import Http404
from django_tenants.utils import schema_context

from accounts.roles import HQ_OFFICER
from stock import selectors, services
from stock.models import StockItem
from tests.factories import make_user
from tests.stock.conftest import image_bytes, register, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(reg):
    x1 = register(
        reg, weight_kg="10", case_reference="CR-2024-17", received_on="2024-05-02", source="seizure"
    )
    x2 = register(
        reg,
        item_type=reg.scales,
        weight_kg="30",
        pieces=900,
        bags=3,
        received_on="2025-01-10",
        source="surrender",
        legal_status="evidence",
        photos=[upload(image_bytes())],
    )
    y1 = register(reg, site=reg.site_y, actor=reg.manager_y, weight_kg="4", case_reference="CR-9")
    return x1, x2, y1


def ids(queryset):
    return {item.pk for item in queryset}


def test_manager_sees_only_their_site(reg, stock):
    x1, x2, y1 = stock
    assert ids(selectors.item_list(user=reg.manager_x, filters={})) == {x1.pk, x2.pk}
    assert ids(selectors.item_list(user=reg.manager_x, filters={"site": reg.site_y.pk})) == set()
    assert ids(selectors.item_list(user=reg.hq, filters={})) == {x1.pk, x2.pk, y1.pk}
    with pytest.raises(Http404):
        selectors.item_get(user=reg.manager_x, item_id=y1.pk)
    assert selectors.item_get(user=reg.manager_y, item_id=y1.pk) == y1
    with pytest.raises(Http404):
        selectors.item_get(user=reg.manager_x, item_id="not-a-uuid")


def test_photos_are_only_reachable_through_scope(reg, stock):
    photo = stock[1].photos.get()
    assert selectors.photo_get(user=reg.manager_x, photo_id=photo.pk) == photo
    with pytest.raises(Http404):
        selectors.photo_get(user=reg.manager_y, photo_id=photo.pk)


def test_dashboard_totals_respect_scope(reg, stock):
    mine = selectors.dashboard_totals(user=reg.manager_x)
    assert mine["overall"] == {"items": 2, "pieces": 901, "weight_kg": Decimal("40.000")}
    assert [row["site"] for row in mine["per_site"]] == [reg.site_x]
    assert {row["category"].code: row["items"] for row in mine["per_category"]} == {
        "ivory": 1,
        "pangolin": 1,
    }
    everyone = selectors.dashboard_totals(user=reg.hq)
    assert everyone["overall"]["items"] == 3
    assert everyone["overall"]["weight_kg"] == Decimal("44.000")
    assert {row["site"].code for row in everyone["per_site"]} == {"site-x", "site-y"}
    assert everyone["in_transit"]["items"] == everyone["missing"]["items"] == 0


def test_dashboard_reads_only_the_totals_table(reg, stock):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        selectors.dashboard_totals(user=reg.hq)
    assert not any("stock_stockitem" in q["sql"] for q in queries.captured_queries)


def test_filters(reg, stock):
    x1, x2, _y1 = stock

    def found(**filters):
        return ids(selectors.item_list(user=reg.hq, filters=filters))

    assert found(category=reg.pangolin.pk) == {x2.pk}
    assert found(item_type=reg.tusk) == {x1.pk, stock[2].pk}
    assert found(source="surrender") == {x2.pk}
    assert found(legal_status="evidence") == {x2.pk}
    assert found(received_from="2024-01-01", received_to="2024-12-31") == {x1.pk}
    assert found(site=str(reg.site_x.pk), received_from="2025-01-10") == {x2.pk}


def test_search_by_number_mark_and_case_reference(reg, stock):
    x1, x2, y1 = stock

    def found(q, user=reg.hq):
        return ids(selectors.item_list(user=user, filters={"q": q}))

    assert found(x2.sms_number.lower()) == {x2.pk}
    assert found("  " + x1.cites_mark.lower().replace(" ", "   ") + " ") == {x1.pk}
    assert found("cr-2024") == {x1.pk}
    assert found("CR-9") == {y1.pk}
    assert found("CR-9", user=reg.manager_x) == set()  # out of scope


def test_archived_items_leave_the_list_and_appear_in_the_archive(reg, stock):
    x1, x2, _y1 = stock
    services.item_archive(
        actor=reg.manager_x,
        item=x1,
        reason="released_to_court",
        archived_on=datetime.date.today(),
        authority_reference="Court order 3",
    )
    assert ids(selectors.item_list(user=reg.manager_x, filters={})) == {x2.pk}
    assert ids(selectors.item_list(user=reg.manager_x, filters={"status": "archived"})) == {x1.pk}
    archive = selectors.archive_list(user=reg.manager_x, filters={"q": x1.cites_mark})
    assert [record.item_id for record in archive] == [x1.pk]
    assert list(selectors.archive_list(user=reg.manager_y, filters={})) == []
    assert selectors.archive_list(user=reg.hq, filters={"reason": "destroyed"}).count() == 0
    # Still reachable, and its totals are gone.
    assert selectors.item_get(user=reg.manager_x, item_id=x1.pk).status == "archived"
    assert selectors.dashboard_totals(user=reg.manager_x)["overall"]["items"] == 1


def test_history_oldest_first(reg, stock):
    x1 = stock[0]
    services.item_correct(actor=reg.manager_x, item=x1, changes={"weight_kg": "9"}, reason="dry")
    services.item_archive(
        actor=reg.manager_x,
        item=x1,
        reason="destroyed",
        archived_on=datetime.date.today(),
        authority_reference="Order 1",
        destruction_method="Crushed",
        witnesses="Two officers",
    )
    history = selectors.item_history(item=x1)
    assert [event["kind"] for event in history] == ["registered", "change", "archived"]
    assert (history[1]["field"], history[1]["old"], history[1]["new"]) == (
        "weight_kg",
        "10.000",
        "9.000",
    )
    assert history[1]["by"] == reg.manager_x and history[1]["reason"] == "dry"


def test_another_country_never_sees_the_item(reg, stock, country_b):
    x1 = stock[0]
    with schema_context(country_b.schema_name):
        officer = make_user(role=HQ_OFFICER, all_sites=True)
        assert not StockItem.objects.filter(pk=x1.pk).exists()
        assert ids(selectors.item_list(user=officer, filters={"q": x1.sms_number})) == set()
        with pytest.raises(Http404):
            selectors.item_get(user=officer, item_id=x1.pk)
        assert selectors.dashboard_totals(user=officer)["overall"]["items"] == 0


def test_custom_fields_for_type(reg):
    services.custom_field_save(
        actor=reg.admin,
        definition=None,
        data={"key": "b", "labels": {"en": "B"}, "field_type": "text", "order": 2},
    )
    a = services.custom_field_save(
        actor=reg.admin,
        definition=None,
        data={
            "key": "a",
            "labels": {"en": "A"},
            "field_type": "text",
            "order": 1,
            "applies_to": [reg.scales],
        },
    )
    assert [d.key for d in selectors.custom_fields_for_type(item_type=reg.scales)] == ["a", "b"]
    assert [d.key for d in selectors.custom_fields_for_type(item_type=reg.tusk)] == ["b"]
    services.custom_field_deactivate(actor=reg.admin, definition=a)
    assert [d.key for d in selectors.custom_fields_for_type(item_type=reg.scales)] == ["b"]
