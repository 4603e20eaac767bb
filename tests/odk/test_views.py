"""ODK screens: administrators only (a store manager gets 404), the QR code
carries the Collect settings and each view is logged, the review queue."""

import base64
import json
import zlib

import pytest

from odk.models import QrView, Submission
from odk.sync import sync_country
from odk.xlsforms import REGISTER_FORM_ID
from tests.factories import DEFAULT_PASSWORD

from .conftest import photo, register_values


@pytest.fixture
def as_user(client, host_a):
    def _as(user):
        client.force_login(user)
        client.defaults["HTTP_HOST"] = host_a
        return client

    return _as


def _qr_payload(html: str, app_user) -> dict:
    from odk import services

    payload = services.collect_qr_payload(app_user=app_user)
    return json.loads(zlib.decompress(base64.b64decode(payload)))


def test_the_administrator_sees_the_odk_page_and_the_qr_code_and_the_view_is_logged(
    connected, fake, as_user
):
    client = as_user(connected.admin)
    page = client.get("/odk/")
    assert page.status_code == 200 and connected.app_x.display_name in page.text
    response = client.get(f"/odk/app-users/{connected.app_x.pk}/qr/")
    assert response.status_code == 200 and "<svg" in response.text
    assert response["Cache-Control"] == "no-store"
    view = QrView.objects.get()
    assert view.viewed_by == connected.admin and view.app_user == connected.app_x
    settings = _qr_payload(response.text, connected.app_x)
    token = fake.app_users[connected.app_x.central_id]["token"]
    assert settings["general"]["server_url"] == f"{fake.url}/v1/key/{token}/projects/1"
    assert settings["general"]["form_update_mode"] == "match_exactly"
    assert settings["general"]["autosend"] == "wifi_and_cellular"
    # The forms offer the manager their own stores by this name, not changed on the phone.
    assert settings["general"]["metadata_username"] == connected.manager_x.username
    assert settings["admin"] == {"change_form_metadata": False}
    # The app user is assigned to both forms in Central.
    assert {f for p, f, u in fake.assignments if u == connected.app_x.central_id} == {
        "sms_register_item",
        "sms_stocktake_check",
    }


@pytest.mark.parametrize(
    "path",
    [
        "/odk/",
        "/odk/connection/",
        "/odk/review/",
        "/odk/app-users/{pk}/qr/",
        "/odk/forms/register.xlsx",
        "/odk/forms/stocktake.xml",
    ],
)
def test_a_store_manager_cannot_see_odk_pages_or_the_qr_code(connected, as_user, path):
    client = as_user(connected.manager_x)
    response = client.get(path.format(pk=connected.app_x.pk))
    assert response.status_code == 404
    assert QrView.objects.count() == 0
    assert client.post("/odk/action/sync/").status_code == 404


def test_an_administrator_of_one_store_sees_only_its_managers_qr_codes(connected, as_user):
    # A QR code signs in to Collect as that store manager: scope is a ceiling.
    from accounts.roles import SMS_ADMINISTRATOR
    from tests.factories import make_user

    admin_x = make_user(role=SMS_ADMINISTRATOR, sites=[connected.site_x])
    client = as_user(admin_x)
    page = client.get("/odk/")
    assert connected.app_x.display_name in page.text
    assert connected.app_y.display_name not in page.text
    assert client.get(f"/odk/app-users/{connected.app_x.pk}/qr/").status_code == 200
    assert client.get(f"/odk/app-users/{connected.app_y.pk}/qr/").status_code == 404
    assert list(QrView.objects.values_list("app_user", flat=True)) == [connected.app_x.pk]


def test_an_administrator_of_country_b_cannot_reach_country_a_qr(
    connected, country_b, client, host_a
):
    from django_tenants.utils import schema_context

    from accounts.roles import SMS_ADMINISTRATOR
    from tests.factories import make_user

    with schema_context(country_b.schema_name):
        admin_b = make_user(role=SMS_ADMINISTRATOR, all_sites=True)
        client.force_login(admin_b)
    # B's session means nothing on A's host.
    response = client.get(f"/odk/app-users/{connected.app_x.pk}/qr/", HTTP_HOST=country_b.host)
    assert response.status_code == 404
    # ...and on A's host it is no session at all: sent to the login page.
    response = client.get(f"/odk/app-users/{connected.app_x.pk}/qr/", HTTP_HOST=host_a)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert QrView.objects.count() == 0


def test_review_queue_correct_and_process_again_from_the_page(connected, fake, as_user):
    sub = fake.submit(
        REGISTER_FORM_ID,
        register_values(weight_kg=0),
        submitter_id=connected.app_x.central_id,
        attachments={"1700000000001.jpg": photo()},
    )
    sync_country()
    stored = Submission.objects.get(central_id=sub.id)
    client = as_user(connected.admin)
    listing = client.get("/odk/review/")
    assert "more than 0 kg" in listing.text
    detail = client.get(f"/odk/review/{stored.pk}/")
    assert 'name="value_weight_kg"' in detail.text
    response = client.post(
        f"/odk/review/{stored.pk}/", {"action": "correct", "value_weight_kg": "4.5"}
    )
    assert response.status_code == 302
    stored.refresh_from_db()
    assert stored.status == Submission.Status.PROCESSED and str(stored.item.weight_kg) == "4.500"


def test_the_connection_page_stores_the_password_encrypted(reg, fake, as_user):
    from odk.models import CentralConnection

    client = as_user(reg.admin)
    response = client.post(
        "/odk/connection/",
        {
            "base_url": fake.url,
            "username": "sms@example.org",
            "password": "s3cret-pass",
            "current_password": DEFAULT_PASSWORD,
        },
    )
    assert response.status_code == 302
    conn = CentralConnection.objects.get()
    assert "s3cret-pass" not in conn.password_encrypted
    from odk import crypto

    assert crypto.decrypt(conn.password_encrypted) == "s3cret-pass"


def test_the_connection_form_looks_like_the_other_forms(reg, as_user):
    # Same markup as every other form (a field block per input, the app's
    # submit button), so sms.css styles it; an error sits by its field.
    page = as_user(reg.admin).get("/odk/connection/").content.decode()
    assert 'class="panel stack"' in page
    assert page.count('<div class="field') >= 3
    assert '<button type="submit">' in page
    response = as_user(reg.admin).post("/odk/connection/", {"base_url": "not a url"})
    assert response.status_code == 200
    assert 'class="field has-error"' in response.content.decode()
