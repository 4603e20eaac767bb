"""A store manager of XA, in a real Chromium: signs in through the login page,
registers a tusk with a photo, and finds it on the dashboard and in the list.

The live server runs in another thread with its own database connection, so
the test's setup is committed (transactional test) and removed at the end:
the flush that ends a transactional test only empties the public schema.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import date

import pgtrigger
import pytest
from django_tenants.utils import schema_context
from PIL import Image
from playwright.sync_api import expect

from accounts.roles import STORE_MANAGER
from tests.database_roles import database_owner
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

YEAR = date.today().year


@dataclass
class Store:
    url: str
    site: object
    other_site: object
    item_type: object
    username: str
    colleague: object


@pytest.fixture
def store(live_server, country_a, settings, tmp_path):
    """A store of XA with an ivory type and its manager, committed; removed afterwards."""
    from django.contrib.sessions.models import Session

    from stock.models import (
        DerivedPhotoFile,
        ItemCategory,
        ItemNumberSerial,
        ItemPhoto,
        ItemType,
        MarkSerial,
        StockItem,
        StockTotal,
    )
    from tests.factories import SiteFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    suffix = uuid.uuid4().hex[:6]
    with schema_context(country_a.schema_name):
        # Serial counters are country-wide: put them back as they were.
        counters = {
            model: dict(model.objects.values_list("pk", "last_serial"))
            for model in (ItemNumberSerial, MarkSerial)
        }
        sessions_before = set(Session.objects.values_list("session_key", flat=True))
        site = SiteFactory(code=f"browser-{suffix}", name=f"Riverside strongroom {suffix}")
        # Items of a store outside the manager's scope must not reach their totals.
        other_site = SiteFactory(code=f"browser-other-{suffix}", name=f"Hilltop store {suffix}")
        category = ItemCategory.objects.create(
            code=f"ivory-{suffix}",
            kind="ivory",
            labels={"en": "Ivory", "fr": "Ivoire"},
            mark_pattern="{country} {yy}/{serial}/{weight}",
        )
        item_type = ItemType.objects.create(
            category=category,
            code=f"whole-tusk-{suffix}",
            labels={"en": "Whole tusk", "fr": "Défense entière"},
            marking="cites_ivory",
            whole=True,
        )
        manager = make_user(role=STORE_MANAGER, sites=[site], username=f"amani-{suffix}")
        colleague = make_user(role=STORE_MANAGER, all_sites=True, username=f"colleague-{suffix}")
    # The country host, on the live server's port; Chromium resolves *.localhost to loopback.
    url = f"http://{country_a.host}:{live_server.url.rsplit(':', 1)[1]}"
    yield Store(
        url=url,
        site=site,
        other_site=other_site,
        item_type=item_type,
        username=manager.username,
        colleague=colleague,
    )
    # Removing never-delete rows: the database owner's work (tests/database_roles.py).
    with (
        database_owner(),
        schema_context(country_a.schema_name),
        pgtrigger.ignore(
            "stock.StockItem:stockitem_no_delete",
            "stock.ItemPhoto:itemphoto_no_delete",
            "stock.DerivedPhotoFile:derivedphotofile_no_delete",
        ),
    ):
        sites = [site, other_site]
        DerivedPhotoFile.objects.filter(photo__item__site__in=sites).delete()
        ItemPhoto.objects.filter(item__site__in=sites).delete()
        StockTotal.objects.filter(site__in=sites).delete()
        StockItem.objects.filter(site__in=sites).delete()
        for model, before in counters.items():
            model.objects.exclude(pk__in=before).delete()
            for pk, last_serial in before.items():
                model.objects.filter(pk=pk).update(last_serial=last_serial)
        Session.objects.exclude(session_key__in=sessions_before).delete()
        for user in (manager, colleague):
            _user_remove(user)
        item_type.delete()
        category.delete()
        site.delete()
        other_site.delete()


def _user_remove(user):
    """Delete the user, or deactivate them when an append-only record (the
    access log) keeps them: their unique name collides with nobody."""
    from django.db import transaction
    from django.db.models import ProtectedError
    from django.db.utils import DatabaseError

    try:
        with transaction.atomic():
            user.delete()
    except (ProtectedError, DatabaseError):
        type(user).objects.filter(pk=user.pk).update(is_active=False)


def png_file(tmp_path):
    path = tmp_path / "tusk.png"
    image = Image.new("RGB", (320, 200), (236, 226, 200))
    for x in range(40, 280):  # a tusk-coloured band, so the thumbnail is not blank
        for y in range(90, 110):
            image.putpixel((x, y), (190, 170, 120))
    image.save(path, "PNG")
    return path


def big_figure(page, caption: str) -> str:
    card = page.locator(".card", has_text=caption)
    return card.locator(".big").inner_text().strip()


def test_store_manager_registers_a_tusk_and_finds_it(page, store, tmp_path):
    from stock import services

    # Sign in through the real login page (a store manager of a country whose
    # policy asks 2FA of administrators only: no second step).
    page.goto(store.url + "/accounts/login/")
    page.get_by_label("Your username or e-mail address").fill(store.username)
    page.get_by_label("Your password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(store.url + "/")
    assert page.get_by_role("heading", name="Stock of Alphaland").is_visible()
    assert big_figure(page, "Items in stock") == "0"

    # Meanwhile, someone registers a tusk in a store this manager does not see.
    with schema_context("xa"):
        services.item_register(
            actor=store.colleague,
            site=store.other_site,
            item_type=store.item_type,
            data={"weight_kg": "50.000", "source": "seizure"},
        )

    # Register: step 1 (store and type), step 2 (the fields and a photo).
    page.get_by_role("link", name="Register an item").first.click()
    page.get_by_label("Store").select_option(str(store.site.pk))
    page.get_by_label("Type of item").select_option(str(store.item_type.pk))
    page.get_by_role("button", name="Continue").click()
    page.locator("[name=weight_kg]").fill("23.450")
    page.locator("[name=source]").select_option("seizure")
    page.locator("[name=case_reference]").fill("CR-RIVER-77")
    page.locator("input[type=file][name=photos]").set_input_files(png_file(tmp_path))
    page.get_by_role("button", name="Register", exact=True).click()

    message = page.locator(".messages, [role=status], .msg-success").first.inner_text()
    found = re.search(r"Item (\S+) is registered\. Its CITES mark is (.+?)\.$", message.strip())
    assert found, message
    sms_number, mark = found.groups()
    assert re.fullmatch(rf"XA {YEAR % 100:02d}/\d+/23", mark), mark
    # The photo is served to the browser through the checking view.
    thumbnail = page.locator("img[src*='/photos/']").first
    thumbnail.wait_for()
    # The browser decodes the image on its own time (slow on a loaded CI machine):
    # wait until it has, failing if it never does (a broken image stays at width 0).
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0",
        arg=thumbnail.element_handle(),
        timeout=20_000,
    )
    # Fetched from inside the page: only the browser resolves *.localhost.
    status, content_type = thumbnail.evaluate(
        "async img => { const r = await fetch(img.src);"
        " return [r.status, r.headers.get('content-type')]; }"
    )
    assert status == 200
    assert content_type.startswith("image/")

    # The dashboard's totals moved by this tusk, and only this one.
    page.goto(store.url + "/")
    assert big_figure(page, "Items in stock") == "1"
    assert big_figure(page, "Weight in stock") == "23.450 kg"
    by_store = page.locator("section", has_text="By store")
    assert by_store.get_by_role("row", name=re.compile(store.site.name)).is_visible()
    assert not by_store.get_by_text(store.other_site.name).count()
    page.screenshot(path=tmp_path / "dashboard.png", full_page=True)

    # The list finds it by its mark and by its SMS number.
    for query in (mark.lower(), sms_number):
        page.goto(store.url + "/items/")
        page.get_by_role("searchbox").fill(query)
        page.get_by_role("button", name="Search").click()
        rows = page.locator("table.grid tbody tr")
        # Waits for the results page: counting at once can catch the page unloading.
        expect(rows, query).to_have_count(1)
        assert sms_number in rows.first.inner_text()
        assert mark in rows.first.inner_text()
