"""The stock register's screens, through the real views on a country host.

Items are registered through stock.services (the same path as the web form),
in country XA; country XB is "another country".
"""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tenants.utils import schema_context
from PIL import Image

from accounts.roles import AUDITOR, HQ_OFFICER, SMS_ADMINISTRATOR, STORE_MANAGER
from stock import services
from stock.models import (
    CustomFieldDefinition,
    ItemCategory,
    ItemType,
    StockItem,
)
from tests.factories import SiteFactory, make_user

pytestmark = pytest.mark.django_db


def jpeg_upload(name="tusk.jpg", size=(64, 48), color=(200, 190, 160)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def stock_setup(in_country_a):
    """Two stores, ivory and pangolin types, and the people who use them."""
    site_x = SiteFactory(code="store-x", name="Xanadu strongroom")
    site_y = SiteFactory(code="store-y", name="Yonder warehouse")
    ivory = ItemCategory.objects.create(
        code="ivory", kind="ivory", labels={"en": "Ivory", "fr": "Ivoire"}, order=1
    )
    pangolin = ItemCategory.objects.create(
        code="pangolin", kind="pangolin", labels={"en": "Pangolin", "fr": "Pangolin"}, order=2
    )
    tusk = ItemType.objects.create(
        category=ivory,
        code="whole_tusk",
        labels={"en": "Whole tusk", "fr": "Défense entière"},
        marking="cites_ivory",
        whole=True,
    )
    scales = ItemType.objects.create(
        category=pangolin,
        code="scales",
        labels={"en": "Scales", "fr": "Écailles"},
        counting=ItemType.Counting.LOT,
    )
    manager_x = make_user(role=STORE_MANAGER, sites=[site_x], username="manager-x")
    manager_y = make_user(role=STORE_MANAGER, sites=[site_y], username="manager-y")
    hq = make_user(role=HQ_OFFICER, all_sites=True, username="hq")
    return {
        "site_x": site_x,
        "site_y": site_y,
        "tusk": tusk,
        "scales": scales,
        "manager_x": manager_x,
        "manager_y": manager_y,
        "hq": hq,
    }


def register(*, actor, site, item_type, weight="12.345", photos=(), **data):
    base = {"weight_kg": Decimal(weight), "received_on": date(2026, 3, 1), "source": "seizure"}
    if item_type.is_lot:
        base.update({"pieces": 300, "bags": 2})
    base.update(data)
    return services.item_register(
        actor=actor, site=site, item_type=item_type, data=base, photos=list(photos)
    )


@pytest.fixture
def items(stock_setup, media):
    s = stock_setup
    x_tusk = register(
        actor=s["manager_x"], site=s["site_x"], item_type=s["tusk"], photos=[jpeg_upload()]
    )
    x_scales = register(
        actor=s["manager_x"], site=s["site_x"], item_type=s["scales"], weight="40.000"
    )
    y_tusk = register(
        actor=s["manager_y"],
        site=s["site_y"],
        item_type=s["tusk"],
        weight="7.500",
        photos=[jpeg_upload(color=(10, 20, 30))],
    )
    return {"x_tusk": x_tusk, "x_scales": x_scales, "y_tusk": y_tusk}


@pytest.fixture
def login(client, host_a):
    """Log ``user`` in on country A's host (sessions live in the country schema)."""

    def _login(user):
        client.force_login(user)
        client.defaults["HTTP_HOST"] = host_a
        return client

    return _login


def form_data(form) -> dict:
    """What a browser would send back for an unchanged, pre-filled form."""
    data = {}
    for field in form:
        value = field.value()
        if value is True:
            data[field.html_name] = "on"
        elif value not in (None, False):
            data[field.html_name] = value
    return data


def text(response) -> str:
    return response.content.decode()


# --- Dashboard --------------------------------------------------------------------


def test_dashboard_of_a_scoped_manager_counts_only_their_store(login, stock_setup, items):
    client = login(stock_setup["manager_x"])
    page = text(client.get("/"))
    assert "Xanadu strongroom" in page
    assert "Yonder warehouse" not in page
    # 12.345 + 40.000 in store X; store Y's 7.500 kg is not counted.
    assert "52.345" in page
    assert "59.845" not in page


def test_dashboard_of_hq_counts_every_store(login, stock_setup, items):
    page = text(login(stock_setup["hq"]).get("/"))
    assert "Xanadu strongroom" in page and "Yonder warehouse" in page
    assert "59.845" in page


def test_dashboard_figures_link_to_the_filtered_list(login, stock_setup, items):
    page = text(login(stock_setup["hq"]).get("/"))
    assert f"/items/?status=in_stock&amp;site={stock_setup['site_x'].pk}" in page


# --- Item list --------------------------------------------------------------------


def test_list_shows_only_items_in_scope(login, stock_setup, items):
    page = text(login(stock_setup["manager_x"]).get("/items/"))
    assert items["x_tusk"].sms_number in page
    assert items["x_scales"].sms_number in page
    assert items["y_tusk"].sms_number not in page
    assert "Yonder warehouse" not in page  # not even in the store filter


def test_list_search_by_mark(login, stock_setup, items):
    mark = items["y_tusk"].cites_mark
    assert mark
    page = text(login(stock_setup["hq"]).get("/items/", {"q": mark.lower()}))
    assert items["y_tusk"].sms_number in page
    assert items["x_tusk"].sms_number not in page


def test_list_filters_by_type_and_store_and_keeps_them_in_links(login, stock_setup, items):
    client = login(stock_setup["hq"])
    page = text(client.get("/items/", {"item_type": stock_setup["scales"].pk}))
    assert items["x_scales"].sms_number in page
    assert items["x_tusk"].sms_number not in page
    page = text(client.get("/items/", {"site": stock_setup["site_y"].pk}))
    assert items["y_tusk"].sms_number in page
    assert items["x_tusk"].sms_number not in page


def test_list_out_of_scope_store_filter_shows_nothing_of_it(login, stock_setup, items):
    page = text(login(stock_setup["manager_x"]).get("/items/", {"site": stock_setup["site_y"].pk}))
    assert items["y_tusk"].sms_number not in page


def test_list_pages_without_losing_or_repeating_items(login, stock_setup, media):
    s = stock_setup
    numbers = {
        register(actor=s["manager_x"], site=s["site_x"], item_type=s["scales"]).sms_number
        for _ in range(53)
    }
    client = login(s["hq"])
    response = client.get("/items/")
    first = [i.sms_number for i in response.context["items"]]
    assert len(first) == 50
    assert response.context["next_cursor"]
    response = client.get("/items/", {"after": response.context["next_cursor"]})
    second = [i.sms_number for i in response.context["items"]]
    assert len(second) == 3
    assert response.context["next_cursor"] is None
    assert set(first) | set(second) == numbers
    back = client.get("/items/", {"before": response.context["previous_cursor"]})
    assert [i.sms_number for i in back.context["items"]] == first


# --- Item detail and photos -------------------------------------------------------


def test_detail_shows_fields_photos_and_hash(login, stock_setup, items):
    item = items["x_tusk"]
    photo = item.photos.get()
    page = text(login(stock_setup["manager_x"]).get(f"/items/{item.pk}/"))
    assert item.sms_number in page
    assert item.cites_mark in page
    assert "12.345" in page
    assert photo.sha256 in page
    assert reverse("stock:photo_thumbnail", args=[photo.pk]) in page
    assert reverse("stock:photo_original", args=[photo.pk]) in page


def test_photo_is_served_privately_with_its_type(login, stock_setup, items):
    photo = items["x_tusk"].photos.get()
    # Originals are for roles allowed to see them (the auditor); a store
    # manager gets a copy without metadata (tests/stock/test_evidence.py).
    client = login(make_user(role=AUDITOR, all_sites=True, username="auditor"))
    response = client.get(reverse("stock:photo_original", args=[photo.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "private" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content)
    import hashlib

    assert hashlib.sha256(body).hexdigest() == photo.sha256
    thumb = client.get(reverse("stock:photo_thumbnail", args=[photo.pk]))
    assert thumb.status_code == 200
    assert thumb["Content-Type"].startswith("image/")


def test_manager_of_another_store_gets_404_everywhere(login, stock_setup, items):
    client = login(stock_setup["manager_x"])
    item = items["y_tusk"]
    photo = item.photos.get()
    for url in (
        f"/items/{item.pk}/",
        f"/items/{item.pk}/correct/",
        f"/items/{item.pk}/archive/",
        reverse("stock:photo_original", args=[photo.pk]),
        reverse("stock:photo_thumbnail", args=[photo.pk]),
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(f"/items/{item.pk}/correct/", {"weight_kg": "1.000", "reason": "test"})
    assert response.status_code == 404
    response = client.post(
        f"/items/{item.pk}/archive/",
        {"reason": "destroyed", "archived_on": "2026-03-02", "authority_reference": "A-1"},
    )
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.weight_kg == Decimal("7.500")
    assert item.status == StockItem.Status.IN_STOCK


def test_another_country_never_sees_the_item(client, stock_setup, items, country_b, host_b):
    item = items["x_tusk"]
    photo = item.photos.get()
    with schema_context(country_b.schema_name):
        b_user = make_user(role=HQ_OFFICER, all_sites=True, username="b-hq")
        client.force_login(b_user)
    for url in (
        f"/items/{item.pk}/",
        reverse("stock:photo_original", args=[photo.pk]),
    ):
        assert client.get(url, HTTP_HOST=host_b).status_code == 404
    response = client.get("/items/", {"q": item.sms_number}, HTTP_HOST=host_b)
    assert response.context["items"] == []
    assert f"/items/{item.pk}/" not in text(response)


def test_anonymous_is_sent_to_login(client, host_a, stock_setup, items):
    response = client.get(f"/items/{items['x_tusk'].pk}/", HTTP_HOST=host_a)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- Register ---------------------------------------------------------------------


def test_register_step_one_offers_only_stores_in_scope(login, stock_setup):
    page = text(login(stock_setup["manager_x"]).get("/items/new/"))
    assert "Xanadu strongroom" in page
    assert "Yonder warehouse" not in page


def test_register_form_shows_only_fields_of_the_type(login, stock_setup):
    client = login(stock_setup["manager_x"])
    site = stock_setup["site_x"].pk
    tusk_page = text(client.get("/items/new/", {"site": site, "item_type": stock_setup["tusk"].pk}))
    assert 'name="lip_circumference_cm"' in tusk_page
    assert 'name="side"' in tusk_page
    assert 'name="bags"' not in tusk_page
    assert 'name="base_circumference_cm"' not in tusk_page
    assert 'accept="image/jpeg,image/png,image/webp"' in tusk_page
    assert "multiple" in tusk_page
    lot_page = text(
        client.get("/items/new/", {"site": site, "item_type": stock_setup["scales"].pk})
    )
    assert 'name="bags"' in lot_page and 'name="pieces"' in lot_page
    assert 'name="lip_circumference_cm"' not in lot_page


def test_register_form_shows_custom_fields_in_the_users_language(login, stock_setup):
    definition = CustomFieldDefinition.objects.create(
        key="seal_number",
        labels={"en": "Seal number", "fr": "Numéro de scellé"},
        field_type="text",
        required=True,
    )
    definition.applies_to.add(stock_setup["tusk"])
    manager = stock_setup["manager_x"]
    manager.language = "fr"
    manager.save()
    page = text(
        login(manager).get(
            "/items/new/",
            {"site": stock_setup["site_x"].pk, "item_type": stock_setup["tusk"].pk},
        )
    )
    assert "Numéro de scellé" in page
    assert 'name="custom_seal_number"' in page


def test_register_with_bad_fields_saves_nothing_and_keeps_input(login, stock_setup, media):
    client = login(stock_setup["manager_x"])
    before = StockItem.objects.count()
    response = client.post(
        "/items/new/",
        {
            "site": stock_setup["site_x"].pk,
            "item_type": stock_setup["tusk"].pk,
            "weight_kg": "twelve",
            "received_on": "",
            "species": "Loxodonta africana",
            "source": "seizure",
            "legal_status": "government_property",
            "photos": [jpeg_upload()],
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "weight_kg" in form.errors
    assert "received_on" in form.errors
    page = text(response)
    assert "Loxodonta africana" in page  # input kept
    assert "choose them again" in page  # the photos must be re-chosen
    assert StockItem.objects.count() == before


def test_register_with_a_bad_photo_shows_why_and_saves_nothing(login, stock_setup, media):
    client = login(stock_setup["manager_x"])
    before = StockItem.objects.count()
    response = client.post(
        "/items/new/",
        {
            "site": stock_setup["site_x"].pk,
            "item_type": stock_setup["tusk"].pk,
            "weight_kg": "3.000",
            "received_on": "2026-03-01",
            "source": "seizure",
            "legal_status": "government_property",
            "photos": [SimpleUploadedFile("a.jpg", b"not an image", content_type="image/jpeg")],
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert StockItem.objects.count() == before


def test_register_in_a_store_out_of_scope_is_refused(login, stock_setup, media):
    client = login(stock_setup["manager_x"])
    response = client.post(
        "/items/new/",
        {
            "site": stock_setup["site_y"].pk,
            "item_type": stock_setup["tusk"].pk,
            "weight_kg": "3.000",
            "received_on": "2026-03-01",
            "source": "seizure",
            "legal_status": "government_property",
        },
    )
    assert response.status_code == 200
    assert "site" in response.context["form"].errors
    assert not StockItem.objects.filter(site=stock_setup["site_y"]).exists()


def test_register_happy_path_with_photos(login, stock_setup, media):
    client = login(stock_setup["manager_x"])
    response = client.post(
        "/items/new/",
        {
            "site": stock_setup["site_x"].pk,
            "item_type": stock_setup["tusk"].pk,
            "weight_kg": "13.600",
            "weight_is_final": "on",
            "side": "L",
            "length_outer_cm": "120.5",
            "received_on": "2026-03-01",
            "source": "seizure",
            "legal_status": "government_property",
            "photos": [jpeg_upload("a.jpg"), jpeg_upload("b.png", color=(1, 2, 3))],
        },
        follow=True,
    )
    item = StockItem.objects.get(site=stock_setup["site_x"])
    assert response.redirect_chain[-1][0] == f"/items/{item.pk}/"
    page = text(response)
    assert item.cites_mark and item.cites_mark.startswith("XA ")
    assert f"{item.sms_number} is registered" in page
    assert item.cites_mark in page
    assert item.photos.count() == 2
    assert item.weight_kg == Decimal("13.600")
    assert item.side == "L"


def test_auditor_and_hq_may_not_register_correct_or_archive(login, stock_setup, items):
    auditor = make_user(role=AUDITOR, all_sites=True, username="auditor")
    item = items["x_tusk"]
    for user in (auditor, stock_setup["hq"]):
        client = login(user)
        assert client.get("/items/new/").status_code == 403
        assert client.get(f"/items/{item.pk}/correct/").status_code == 403
        assert client.get(f"/items/{item.pk}/archive/").status_code == 403
        page = text(client.get(f"/items/{item.pk}/"))
        assert f"/items/{item.pk}/correct/" not in page
        assert f"/items/{item.pk}/archive/" not in page


def test_no_screen_offers_deletion(login, stock_setup, items):
    client = login(stock_setup["manager_x"])
    item = items["x_tusk"]
    for url in ("/", "/items/", f"/items/{item.pk}/", f"/items/{item.pk}/correct/"):
        assert "delete" not in text(client.get(url)).lower(), url


# --- Correct and archive ----------------------------------------------------------


def test_correction_is_saved_and_shown_in_history(login, stock_setup, items):
    item = items["x_tusk"]
    client = login(stock_setup["manager_x"])
    form = client.get(f"/items/{item.pk}/correct/").context["form"]
    data = form_data(form)
    data.update({"weight_kg": "12.300", "reason": "Weighed again on the calibrated scale"})
    response = client.post(f"/items/{item.pk}/correct/", data, follow=True)
    assert response.redirect_chain, response.context["form"].errors
    item.refresh_from_db()
    assert item.weight_kg == Decimal("12.300")
    page = text(response)
    assert "Weighed again on the calibrated scale" in page
    assert "12.345" in page and "12.300" in page
    assert "manager-x" in page or stock_setup["manager_x"].display_name in page


def test_correction_needs_a_reason(login, stock_setup, items):
    item = items["x_tusk"]
    client = login(stock_setup["manager_x"])
    response = client.post(
        f"/items/{item.pk}/correct/",
        {"weight_kg": "1.000", "received_on": "2026-03-01", "source": "seizure", "reason": ""},
    )
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    item.refresh_from_db()
    assert item.weight_kg == Decimal("12.345")


def test_archive_moves_item_to_archive_and_out_of_the_totals(login, stock_setup, items):
    item = items["x_tusk"]
    client = login(stock_setup["manager_x"])
    response = client.post(
        f"/items/{item.pk}/archive/",
        {
            "reason": "destroyed",
            "archived_on": "2026-03-05",
            "authority_reference": "Order 12/2026",
            "destruction_method": "Burnt",
            "witnesses": "A. Witness, B. Witness",
        },
        follow=True,
    )
    assert response.redirect_chain
    item.refresh_from_db()
    assert item.status == StockItem.Status.ARCHIVED
    archive = text(client.get("/archive/"))
    assert item.sms_number in archive
    assert "Order 12/2026" in archive
    searched = text(client.get("/archive/", {"q": item.cites_mark}))
    assert item.sms_number in searched
    # Store X now holds only the 40 kg lot.
    dashboard = text(client.get("/"))
    assert "40.000" in dashboard
    assert "52.345" not in dashboard
    in_stock = text(client.get("/items/", {"status": "in_stock"}))
    assert item.sms_number not in in_stock
    detail = text(client.get(f"/items/{item.pk}/"))
    assert "Burnt" in detail
    assert f"/items/{item.pk}/archive/" not in detail


def test_archive_of_destroyed_item_needs_its_details(login, stock_setup, items):
    item = items["x_tusk"]
    client = login(stock_setup["manager_x"])
    response = client.post(
        f"/items/{item.pk}/archive/",
        {"reason": "destroyed", "archived_on": "2026-03-05", "authority_reference": ""},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    item.refresh_from_db()
    assert item.status == StockItem.Status.IN_STOCK


def test_archive_list_hides_other_stores(login, stock_setup, items):
    hq = login(stock_setup["hq"])
    # Archived by their own manager, seen by HQ but not by the manager of store X.
    services.item_archive(
        actor=stock_setup["manager_y"],
        item=items["y_tusk"],
        reason="lost_stolen",
        archived_on=date(2026, 3, 5),
        authority_reference="Police 7",
        incident_reference="INC-9",
    )
    assert items["y_tusk"].sms_number in text(hq.get("/archive/"))
    manager_x = login(stock_setup["manager_x"])
    assert items["y_tusk"].sms_number not in text(manager_x.get("/archive/"))


# --- Custom fields ----------------------------------------------------------------


def test_custom_fields_are_for_administrators_only(login, stock_setup):
    client = login(stock_setup["manager_x"])
    assert client.get("/custom-fields/").status_code == 403
    assert client.get("/custom-fields/new/").status_code == 403


def test_administrator_adds_edits_and_deactivates_a_field(login, stock_setup):
    admin = make_user(role=SMS_ADMINISTRATOR, all_sites=True, username="admin")
    client = login(admin)
    response = client.post(
        "/custom-fields/new/",
        {
            "key": "storage_box",
            "label_en": "Storage box",
            "label_fr": "Boîte de rangement",
            "field_type": "choice",
            "choices_text": "a | Box A | Boîte A\nb | Box B | Boîte B",
            "applies_to": [stock_setup["tusk"].pk],
            "order": "1",
        },
        follow=True,
    )
    assert response.redirect_chain, response.context["form"].errors
    definition = CustomFieldDefinition.objects.get(key="storage_box")
    assert definition.labels == {"en": "Storage box", "fr": "Boîte de rangement"}
    assert [c["value"] for c in definition.choices] == ["a", "b"]
    response = client.post(
        f"/custom-fields/{definition.pk}/edit/",
        {
            "label_en": "Strongroom box",
            "label_fr": "Boîte de rangement",
            "field_type": "choice",
            "choices_text": "a | Box A | Boîte A\nb | Box B | Boîte B",
            "applies_to": [stock_setup["tusk"].pk],
            "order": "1",
        },
        follow=True,
    )
    assert response.redirect_chain, response.context["form"].errors
    client.post(f"/custom-fields/{definition.pk}/deactivate/")
    definition.refresh_from_db()
    assert definition.active is False
    assert definition.key == "storage_box"
    page = text(client.get(f"/custom-fields/{definition.pk}/"))
    assert "Strongroom box" in page
    assert "Storage box" in page  # the value before the edit, in the change history
    listing = text(client.get("/custom-fields/"))
    assert "Strongroom box" in listing  # deactivated, still listed


def test_deactivated_field_value_stays_on_the_item(login, stock_setup, media):
    definition = CustomFieldDefinition.objects.create(
        key="seal", labels={"en": "Seal number", "fr": "Numéro de scellé"}, field_type="text"
    )
    s = stock_setup
    item = services.item_register(
        actor=s["manager_x"],
        site=s["site_x"],
        item_type=s["tusk"],
        data={"weight_kg": Decimal("2.000"), "received_on": date(2026, 3, 1)},
        custom_values={"seal": "S-77"},
    )
    admin = make_user(role=SMS_ADMINISTRATOR, all_sites=True, username="admin2")
    services.custom_field_deactivate(actor=admin, definition=definition)
    page = text(login(s["manager_x"]).get(f"/items/{item.pk}/"))
    assert "Seal number" in page
    assert "S-77" in page
