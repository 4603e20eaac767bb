# ruff: noqa: F811  (the fixtures imported from tests.stock.test_views are parameters here)
"""Photos added after registration, from the item page: the same checks and
SHA-256 as at registration, in the item's history and gallery with who and
when (in the country's time zone); the walls (another store, another country,
a role that may not correct, an archived item)."""

import hashlib
import zoneinfo
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from accounts.roles import STORE_MANAGER
from core import display
from stock import services
from stock.models import ItemPhoto, StockItem
from tests.factories import make_user
from tests.stock.test_views import (  # noqa: F401
    items,
    jpeg_upload,
    login,
    media,
    stock_setup,
)

pytestmark = pytest.mark.django_db


def photos_of(item):
    return list(ItemPhoto.objects.filter(item=item).order_by("uploaded_at"))


def test_a_manager_adds_photos_that_are_fingerprinted_and_in_the_history(login, stock_setup, items):
    item = items["x_scales"]
    # Registered ten minutes ago (photos within seconds of it count as its own).
    StockItem.objects.filter(pk=item.pk).update(created_at=item.created_at - timedelta(minutes=10))
    first, second = jpeg_upload("a.jpg"), jpeg_upload("b.jpg", color=(1, 2, 3))
    contents = [first.read(), second.read()]
    first.seek(0), second.seek(0)
    client = login(stock_setup["manager_x"])
    response = client.post(
        f"/items/{item.pk}/photos/", {"photos": [first, second], "caption": "after re-weighing"}
    )
    assert response.status_code == 302 and response.url.endswith("#photos")
    added = photos_of(item)
    assert [p.sha256 for p in added] == [hashlib.sha256(c).hexdigest() for c in contents]
    assert {p.uploaded_by for p in added} == {stock_setup["manager_x"]}
    assert {p.caption for p in added} == {"after re-weighing"}
    page = client.get(f"/items/{item.pk}/")
    html = page.content.decode()
    assert "2 photos added to" in html
    # Each photo is in the history (who, when, its SHA-256), as registration's are.
    history = [e for e in page.context["history"] if e["kind"] == "photo"]
    assert [e["photo"].pk for e in history] == [p.pk for p in added]
    assert {e["by"] for e in history} == {stock_setup["manager_x"]}
    assert html.count("<div>after re-weighing</div>") == 2
    assert stock_setup["manager_x"].display_name in html


def test_added_photos_show_who_and_when_in_the_countrys_time_zone(
    login, stock_setup, items, country_a
):
    country_a.time_zone = "Africa/Nairobi"
    country_a.save(update_fields=["time_zone"])
    item = items["x_tusk"]
    client = login(stock_setup["manager_x"])
    client.post(f"/items/{item.pk}/photos/", {"photos": [jpeg_upload("late.jpg")]})
    photo = photos_of(item)[-1]
    html = client.get(f"/items/{item.pk}/").content.decode()
    # East Africa Time, the country's zone, written as every time is (core.display).
    shown = display.when(photo.uploaded_at, zone=zoneinfo.ZoneInfo("Africa/Nairobi"))
    assert shown.endswith(" EAT")
    assert f"Added by {photo.uploaded_by.display_name}, {shown}" in html


def test_a_bad_file_is_refused_and_nothing_is_stored(login, stock_setup, items):
    item = items["x_scales"]
    client = login(stock_setup["manager_x"])
    fake = SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg")
    good = jpeg_upload("good.jpg")
    response = client.post(f"/items/{item.pk}/photos/", {"photos": [good, fake]}, follow=True)
    assert "This file is not an image" in response.content.decode()
    assert photos_of(item) == []  # all or none


def test_another_stores_manager_cannot_add_a_photo(login, stock_setup, items):
    item = items["x_scales"]
    response = login(stock_setup["manager_y"]).post(
        f"/items/{item.pk}/photos/", {"photos": [jpeg_upload()]}
    )
    assert response.status_code == 404
    assert photos_of(item) == []


def test_a_role_that_may_not_correct_cannot_add_a_photo(login, stock_setup, items):
    item = items["x_scales"]
    client = login(stock_setup["hq"])  # sees every store, corrects nothing
    assert client.post(f"/items/{item.pk}/photos/", {"photos": [jpeg_upload()]}).status_code == 403
    assert "Add photos" not in client.get(f"/items/{item.pk}/").content.decode()
    with pytest.raises(PermissionDenied):
        services.photos_add(actor=stock_setup["hq"], item=item, uploads=[jpeg_upload()])
    assert photos_of(item) == []


def test_another_country_cannot_add_a_photo(client, stock_setup, items, country_b, host_b):
    item = items["x_scales"]
    with schema_context(country_b.schema_name):
        client.force_login(make_user(role=STORE_MANAGER, all_sites=True, username="b-m"))
    response = client.post(
        f"/items/{item.pk}/photos/", {"photos": [jpeg_upload()]}, HTTP_HOST=host_b
    )
    assert response.status_code == 404
    assert photos_of(item) == []


def test_an_archived_item_takes_no_new_photo(login, stock_setup, items):
    item = items["x_scales"]
    manager = stock_setup["manager_x"]
    services.item_archive(
        actor=manager,
        item=item,
        reason="destroyed",
        archived_on=item.received_on,
        authority_reference="A-1",
        destruction_method="Burnt",
        witnesses="Officer A, Officer B",
    )
    client = login(manager)
    assert "Add photos" not in client.get(f"/items/{item.pk}/").content.decode()
    response = client.post(f"/items/{item.pk}/photos/", {"photos": [jpeg_upload()]}, follow=True)
    assert "This item is archived; photos can no longer be added." in response.content.decode()
    with pytest.raises(ValidationError):
        services.photos_add(actor=manager, item=item, uploads=[jpeg_upload()])
    assert photos_of(item) == []


def test_the_same_photo_twice_is_refused(login, stock_setup, items):
    """A second click, or the same file chosen again: the item already has it."""
    item = items["x_scales"]
    client = login(stock_setup["manager_x"])
    client.post(f"/items/{item.pk}/photos/", {"photos": [jpeg_upload("a.jpg")]})
    response = client.post(
        f"/items/{item.pk}/photos/", {"photos": [jpeg_upload("again.jpg")]}, follow=True
    )
    assert "again.jpg: this photo is already on the item." in response.content.decode()
    assert len(photos_of(item)) == 1
