"""A store manager of XA, in a real Chromium: opens an item registered
earlier, adds a photo from its page (it appears in the gallery with their
name and the time), and prints its label from the page (a PDF)."""

import re
from datetime import timedelta

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tests.browser.test_register_flow import png_file, store  # noqa: F401
from tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_store_manager_adds_a_photo_and_prints_the_label(page, store, tmp_path):  # noqa: F811
    from accounts.models import User
    from stock import services
    from stock.models import ItemPhoto, StockItem

    with schema_context("xa"):
        manager = User.objects.get(username=store.username)
        item = services.item_register(
            actor=manager,
            site=store.site,
            item_type=store.item_type,
            data={"weight_kg": "31.200", "source": "seizure"},
        )
        # Registered an hour ago: photos added now are later additions.
        StockItem.objects.filter(pk=item.pk).update(created_at=item.created_at - timedelta(hours=1))

    page.goto(store.url + "/accounts/login/")
    page.get_by_label("Your username or e-mail address").fill(store.username)
    page.get_by_label("Your password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(store.url + "/")

    page.goto(f"{store.url}/items/{item.pk}/")
    expect(page.locator("#photos")).to_contain_text("No photo.")
    page.locator("form.photo-add input[type=file][name=photos]").set_input_files(png_file(tmp_path))
    page.locator("form.photo-add [name=caption]").fill("After re-weighing")
    page.get_by_role("button", name="Add the photos").click()

    gallery = page.locator("#photos")
    expect(gallery.locator("img[src*='/photos/']")).to_have_count(1)
    expect(gallery).to_contain_text("After re-weighing")
    expect(gallery).to_contain_text(re.compile(r"Added by .+, .+ \d{2}:\d{2} UTC"))
    expect(page.locator(".history").last).to_contain_text("Photo added")
    with schema_context("xa"):
        photo = ItemPhoto.objects.get(item=item)
        assert photo.uploaded_by == manager
    expect(gallery).to_contain_text(photo.sha256)
    page.screenshot(path=tmp_path / "item-photo.png", full_page=True)

    # The label: the size chooser and the PDF it opens (fetched from the page,
    # since only the browser resolves *.localhost).
    page.locator("select[name=label_format]").first.select_option("roll-62x29")
    status, content_type = page.evaluate(
        "async url => { const r = await fetch(url);"
        " return [r.status, r.headers.get('content-type')]; }",
        f"/items/{item.pk}/label.pdf?label_format=roll-62x29",
    )
    assert (status, content_type) == (200, "application/pdf")
