"""The filters of the activity page and the change oversight (audit.filters,
administration.filters): after the scope, never widening it; dates are days
of the country's time zone."""

import datetime

import pytest
import time_machine
from django.test import Client
from django_tenants.utils import schema_context

from administration import selectors
from audit.models import AccessEvent
from audit.selectors import access_event_filter
from audit.services import event_record
from stock import services as stock_services
from tests.administration.conftest import make_item, signed_in

pytestmark = pytest.mark.django_db
A = AccessEvent.Action


@pytest.fixture
def logged(people):
    """An item per store, each opened by its manager; store Y's corrected."""
    with schema_context("xa"):
        items = [make_item(people, site=site) for site in (people.site_x, people.site_y)]
        for item in items:
            manager = people.manager_x if item.site == people.site_x else people.manager_y
            event_record(user=manager, action=A.ITEM_VIEW, obj=item)
        stock_services.item_correct(
            actor=people.manager_y, item=items[1], changes={"weight_kg": "11.000"}, reason="dry"
        )
    return items


def test_a_scoped_administrator_filtering_by_another_store_gets_nothing(people, logged):
    _item_x, item_y = logged
    with schema_context("xa"):
        for data in ({"site": people.site_y.pk}, {"site": people.site_y.pk, "action": "item_view"}):
            filterset = access_event_filter(user=people.admin_x, data=data)
            assert list(filterset.qs) == [] and "site" in filterset.form.errors
        assert people.site_y not in filterset.form.fields["site"].queryset
        # Searching the other store's item by its number finds nothing either.
        assert (
            list(access_event_filter(user=people.admin_x, data={"item": item_y.sms_number}).qs)
            == []
        )
        changes = selectors.item_change_filter(user=people.admin_x, data={"site": people.site_y.pk})
        assert list(changes.qs) == [] and "site" in changes.form.errors
        assert list(selectors.item_change_list(user=people.admin_x)) == []
        assert [c.item_id for c in selectors.item_change_list(user=people.admin)] == [item_y.pk]


def test_the_pages_refuse_another_stores_id_and_list_nothing(client, people, host_a, logged):
    _item_x, item_y = logged
    signed_in(client, people.admin_x, schema="xa", host=host_a)
    for url in ("/administration/activity/", "/administration/changes/"):
        response = client.get(url, {"site": people.site_y.pk})
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "Select a valid choice" in html, url
        assert item_y.sms_number not in html, url
        assert "Store Y" not in html, url
    csv = client.get("/administration/activity/export.csv", {"site": people.site_y.pk})
    assert b"".join(csv.streaming_content).decode().count("\n") == 1  # the header only


def test_activity_dates_are_days_of_the_countrys_time_zone(people, country_a, host_a):
    country_a.time_zone = "Africa/Nairobi"  # UTC+3
    country_a.save(update_fields=["time_zone"])
    # 22:30 UTC on 3 March is 01:30 on 4 March in Nairobi.
    with schema_context("xa"):
        with time_machine.travel(datetime.datetime(2025, 3, 3, 22, 30, tzinfo=datetime.UTC)):
            event_record(user=people.hq, action=A.DASHBOARD_VIEW)
    client = signed_in(Client(), people.admin, schema="xa", host=host_a)

    def shown(**dates):
        response = client.get("/administration/activity/", {"user": people.hq.pk, **dates})
        return len(response.context["rows"])

    assert shown(date_from="2025-03-04", date_to="2025-03-04") == 1
    assert shown(date_to="2025-03-03") == 0
    assert shown(date_from="2025-03-05") == 0
