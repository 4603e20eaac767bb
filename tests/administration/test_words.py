"""Audit pages in words (issue 15 item 4): changes as "Field: old → new" with
labels in the user's language, activity details as sentences with links,
the Field filter by choice, permission names translated, the ledger check's
item column."""

import datetime

import pytest
from django_tenants.utils import schema_context

from audit.models import AccessEvent
from audit.services import event_record
from stock import services as stock_services
from tests.administration.conftest import make_item, signed_in

pytestmark = pytest.mark.django_db
A = AccessEvent.Action


def table_of(html: str) -> str:
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def in_french(user):
    with schema_context("xa"):
        user.language = "fr"
        user.save(update_fields=["language"])


def test_changes_say_field_old_and_new_in_the_user_s_language(client, people, host_a):
    with schema_context("xa"):
        item = make_item(people, site=people.site_x)
        stock_services.item_correct(
            actor=people.manager_x, item=item, changes={"weight_kg": "11.000"}, reason="Scale"
        )
    signed_in(client, people.admin, schema="xa", host=host_a)
    rows = table_of(client.get("/administration/changes/").content.decode())
    assert "<strong>Weight (kg)</strong>: " in rows
    assert '12.500 kg</span> → <span class="new">11.000 kg' in rows
    assert "weight_kg" not in rows
    in_french(people.admin)
    rows = table_of(client.get("/administration/changes/").content.decode())
    assert "<strong>Poids (kg)</strong>\xa0: " in rows
    assert "12,500 kg" in rows and "11,000 kg" in rows


def test_the_field_filter_is_a_choice_of_labels(client, people, host_a):
    with schema_context("xa"):
        item = make_item(people, site=people.site_x)
        stock_services.item_correct(
            actor=people.manager_x, item=item, changes={"weight_kg": "11.000"}, reason="Scale"
        )
    signed_in(client, people.admin, schema="xa", host=host_a)
    response = client.get("/administration/changes/", {"field": "weight_kg"})
    assert "Scale" in table_of(response.content.decode())
    field = response.context["form"].fields["field"]
    assert ("weight_kg", "Weight (kg)") in [(k, str(v)) for k, v in field.choices]
    # An internal key typed by hand that is not a field: refused, nothing listed.
    response = client.get("/administration/changes/", {"field": "weight"})
    assert response.context["form"].errors["field"]
    assert "Scale" not in response.content.decode()


def test_custom_field_changes_are_no_python_dicts(client, people, host_a):
    with schema_context("xa"):
        definition = stock_services.custom_field_save(
            actor=people.admin,
            definition=None,
            data={
                "key": "packaging",
                "labels": {"en": "Packaging", "fr": "Emballage"},
                "field_type": "text",
                "unit": "",
                "required": False,
            },
        )
        stock_services.custom_field_save(
            actor=people.admin,
            definition=definition,
            data={"labels": {"en": "Packing", "fr": "Emballage"}, "required": True},
        )
    signed_in(client, people.admin, schema="xa", host=host_a)
    html = client.get("/administration/changes/").content.decode()
    assert "{&#x27;" not in html and "{'" not in html
    assert '<strong>Required</strong>: <span class="old">No</span> → <span class="new">Yes' in html
    assert (
        'English: Packaging; French: Emballage</span> → <span class="new">English: Packing' in html
    )


def test_activity_details_are_sentences_with_a_link_to_the_list(client, people, host_a):
    with schema_context("xa"):
        event_record(
            user=people.manager_x,
            action=A.ITEM_LIST,
            details={
                "q": "KE",
                "site": people.site_x.pk,
                "status": "in_stock",
                "after": "2026-06-24~XA-2026-000244",
            },
        )
    signed_in(client, people.admin, schema="xa", host=host_a)
    rows = table_of(
        client.get("/administration/activity/", {"action": "item_list"}).content.decode()
    )
    assert "search “KE” · store: Store X · status: In stock · the page after XA-2026-000244" in rows
    assert "after:" not in rows and "~" not in rows.split("href")[0]
    assert 'href="/items/?q=KE&amp;site=' in rows


def test_activity_links_the_object_seen(client, people, host_a):
    with schema_context("xa"):
        item = make_item(people, site=people.site_x)
        event_record(user=people.manager_x, action=A.ITEM_VIEW, obj=item)
        event_record(user=people.admin, action=A.USER_VIEW, obj=people.manager_x)
    signed_in(client, people.admin, schema="xa", host=host_a)
    rows = table_of(client.get("/administration/activity/").content.decode())
    assert f'href="/items/{item.pk}/"' in rows
    assert f'href="/administration/users/{people.manager_x.pk}/"' in rows


def test_permission_names_are_in_the_user_s_language(client, people, host_a):
    signed_in(client, people.admin, schema="xa", host=host_a)
    html = client.get("/administration/roles/").content.decode()
    assert "Register items" in html and "Can register items" not in html
    in_french(people.admin)
    html = client.get("/administration/roles/").content.decode()
    assert "Enregistrer des articles" in html and "Register items" not in html
    form = client.get("/administration/roles/new/").content.decode()
    assert "Voir les articles" in form and "Can view" not in form


def test_ledger_check_names_and_links_each_entry_s_item(client, people, host_a):
    with schema_context("xa"):
        item = make_item(people, site=people.site_x)
    signed_in(client, people.admin, schema="xa", host=host_a)
    html = client.get("/ledger/").content.decode()
    assert f'<a href="/items/{item.pk}/">{item.sms_number}</a>' in html


def test_activity_times_are_the_country_s_with_its_zone(client, people, host_a, country_a):
    import csv
    import io

    country_a.time_zone = "Africa/Nairobi"  # EAT, UTC+3
    country_a.save(update_fields=["time_zone"])
    with schema_context("xa"):
        event = event_record(user=people.manager_x, action=A.LOGIN)
    signed_in(client, people.admin, schema="xa", host=host_a)
    rows = table_of(client.get("/administration/activity/", {"action": "login"}).content.decode())
    assert " EAT</td>" in rows
    response = client.get("/administration/activity/export.csv", {"action": "login"})
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines[1][0].endswith("+03:00")
    assert lines[1][0].startswith(
        event.at.astimezone(datetime.timezone(datetime.timedelta(hours=3))).strftime(
            "%Y-%m-%dT%H:%M"
        )
    )
