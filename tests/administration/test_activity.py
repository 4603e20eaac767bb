"""The activity page (access log) and the change oversight, with their walls."""

import csv
import io

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from audit.models import AccessEvent
from audit.services import event_record
from stock import services as stock_services
from tests.administration.conftest import make_item, signed_in

pytestmark = pytest.mark.django_db
A = AccessEvent.Action


@pytest.fixture
def logged(people):
    """An item per site, each opened once by its manager, in the log."""
    with schema_context("xa"):
        item_x = make_item(people, site=people.site_x)
        item_y = make_item(people, site=people.site_y)
        event_record(user=people.manager_x, action=A.ITEM_VIEW, obj=item_x)
        event_record(user=people.manager_y, action=A.ITEM_VIEW, obj=item_y)
        event_record(user=people.manager_x, action=A.LOGIN)
    return item_x, item_y


def rows_of(html):
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""


def test_activity_filters_by_person_item_site_and_action(client, people, host_a, logged):
    item_x, item_y = logged
    signed_in(client, people.admin, schema="xa", host=host_a)
    everything = rows_of(client.get("/administration/activity/").content.decode())
    assert item_x.sms_number in everything and item_y.sms_number in everything

    by_item = rows_of(
        client.get("/administration/activity/", {"item": item_y.sms_number}).content.decode()
    )
    assert item_y.sms_number in by_item and item_x.sms_number not in by_item
    by_site = rows_of(
        client.get("/administration/activity/", {"site": people.site_x.pk}).content.decode()
    )
    assert item_x.sms_number in by_site and item_y.sms_number not in by_site
    by_user = client.get("/administration/activity/", {"user": people.manager_y.pk})
    assert item_x.sms_number not in rows_of(by_user.content.decode())
    by_action = rows_of(
        client.get("/administration/activity/", {"action": "login"}).content.decode()
    )
    assert "Signed in" in by_action and item_x.sms_number not in by_action
    with schema_context("xa"):
        views = AccessEvent.objects.filter(action=A.ACTIVITY_VIEW, user=people.admin)
        assert views.count() == 5
        assert views.order_by("id")[1].details == {"item": item_y.sms_number}


def test_activity_pages_by_older_link_without_counting(client, people, host_a):
    with schema_context("xa"):
        for _n in range(60):
            event_record(user=people.hq, action=A.DASHBOARD_VIEW)
    signed_in(client, people.admin, schema="xa", host=host_a)
    first = client.get("/administration/activity/", {"user": people.hq.pk})
    assert first.context["next_cursor"] is not None and len(first.context["rows"]) == 50
    second = client.get(
        "/administration/activity/", {"user": people.hq.pk, "before": first.context["next_cursor"]}
    )
    assert len(second.context["rows"]) == 10 and second.context["next_cursor"] is None


def test_scoped_administrator_sees_only_their_sites_events(client, people, host_a, logged):
    item_x, item_y = logged
    signed_in(client, people.admin_x, schema="xa", host=host_a)
    html = rows_of(client.get("/administration/activity/").content.decode())
    assert item_x.sms_number in html and item_y.sms_number not in html
    assert "Signed in" in html  # events tied to no site


def test_csv_export_has_the_rows_and_is_itself_logged(client, people, host_a, logged):
    item_x, _item_y = logged
    signed_in(client, people.admin, schema="xa", host=host_a)
    response = client.get("/administration/activity/export.csv", {"site": people.site_x.pk})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "Time"
    assert rows[1][0].endswith("+00:00")  # the country's time, its offset written
    assert [r[6] for r in rows[1:]] == [item_x.sms_number]
    with schema_context("xa"):
        export = AccessEvent.objects.get(action=A.ACTIVITY_EXPORT)
        assert export.user == people.admin and export.details == {"site": people.site_x.pk}


def test_another_countrys_administrator_sees_nothing_of_this_log(client, people, host_b, logged):
    item_x, _item_y = logged
    signed_in(client, people.admin_b, schema="xb", host=host_b)
    html = client.get("/administration/activity/").content.decode()
    assert item_x.sms_number not in html and "manager-x" not in html


def test_changes_page_shows_who_when_old_new_and_reason_within_scope(client, people, host_a):
    with schema_context("xa"):
        item_x = make_item(people, site=people.site_x)
        item_y = make_item(people, site=people.site_y)
        stock_services.item_correct(
            actor=people.manager_x,
            item=item_x,
            changes={"weight_kg": "11.000"},
            reason="Scale was off",
        )
        stock_services.item_correct(
            actor=people.manager_y, item=item_y, changes={"weight_kg": "9.000"}, reason="Dried"
        )
    signed_in(client, people.admin, schema="xa", host=host_a)
    html = client.get("/administration/changes/").content.decode()
    for text in ("Scale was off", "12.500", "11.000", "Dried", item_x.sms_number):
        assert text in html
    only_y = client.get("/administration/changes/", {"site": people.site_y.pk}).content.decode()
    assert "Dried" in only_y and "Scale was off" not in only_y

    scoped = signed_in(Client(), people.admin_x, schema="xa", host=host_a)
    html_x = scoped.get("/administration/changes/").content.decode()
    assert "Scale was off" in html_x and "Dried" not in html_x


def test_csv_export_keeps_formula_like_names_and_browsers_as_text(client, people, host_a):
    from audit.services import Origin

    typed = '=HYPERLINK("http://evil.example","Click")'
    browser = "=cmd|' /C calc'!A0"
    with schema_context("xa"):
        event_record(
            user=None,
            action=A.LOGIN_FAILED,
            username=typed,
            origin=Origin(ip_address="203.0.113.9", user_agent=browser),
        )
    signed_in(client, people.admin, schema="xa", host=host_a)
    response = client.get("/administration/activity/export.csv", {"action": "login_failed"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    [row] = rows[1:]
    assert row[1] == "'" + typed
    assert row[9] == "'" + browser
    assert not [f for r in rows for f in r if f.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_a_one_store_administrator_sees_only_the_events_of_people_within_reach(
    client, people, host_a, logged
):
    """Activity probe: admin.north saw other administrators' promotions, HQ's
    exports and other import runs."""
    with schema_context("xa"):
        event_record(
            user=people.admin, action=A.USER_CHANGED, obj=people.hq, details={"role": "promote"}
        )
        event_record(user=people.hq, action=A.IMPORT_RUN, details={"file": "hq-country.xlsx"})
        event_record(user=people.manager_y, action=A.LOGIN, details={"who": "manager-y-login"})
        event_record(user=None, action=A.LOGIN_FAILED, username="admin")
        event_record(user=None, action=A.LOGIN_FAILED, username="manager-x")
        event_record(user=people.admin_x, action=A.USER_VIEW, obj=people.manager_x)
    signed_in(client, people.admin_x, schema="xa", host=host_a)
    page = client.get("/administration/activity/")
    shown = {(e.user_id, e.username) for e in page.context["rows"]}
    assert (people.manager_x.pk, "manager-x") in shown  # within reach
    assert (people.admin_x.pk, "admin-x") in shown  # their own
    assert (None, "manager-x") in shown  # a failed sign-in as someone within reach
    for outside in (people.admin, people.hq, people.manager_y):
        assert outside.pk not in {user for user, _name in shown}, outside.username
    assert (None, "admin") not in shown
    # The person filter names only them, and asking for someone else gives nothing.
    names = {str(p.pk) for p in page.context["form"].fields["user"].queryset}
    assert names == {str(people.admin_x.pk), str(people.manager_x.pk)}
    response = client.get("/administration/activity/export.csv")
    text = b"".join(response.streaming_content).decode()
    assert "manager-x" in text and "admin-x" in text
    for name in ("hq-country.xlsx", "manager-y", "promote"):
        assert name not in text, name
    assert not [r for r in csv.reader(io.StringIO(text)) if r[1:2] == ["admin"]]

    # The administrator of all sites still sees everything.
    signed_in(client, people.admin, schema="xa", host=host_a)
    text = b"".join(client.get("/administration/activity/export.csv").streaming_content).decode()
    assert "hq-country.xlsx" in text
    assert "manager-y" in text
