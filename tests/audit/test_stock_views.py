"""Every read of the stock screens is in the access log once, with what was seen."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import schema_context
from PIL import Image

from administration.models import PendingCorrection
from audit.models import AccessEvent
from stock import services
from tenants.models import Country
from tests.administration.conftest import make_item, people, signed_in  # noqa: F401
from tests.stock.test_views import form_data

pytestmark = pytest.mark.django_db
A = AccessEvent.Action
UA = "TabletBrowser/1.0"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 190, 160)).save(buffer, "JPEG")
    return SimpleUploadedFile("tusk.jpg", buffer.getvalue(), content_type="image/jpeg")


def logged(**filters):
    with schema_context("xa"):
        return list(AccessEvent.objects.filter(**filters).order_by("id"))


@pytest.fixture
def manager(people, host_a):  # noqa: F811
    client = Client(HTTP_USER_AGENT=UA, REMOTE_ADDR="192.0.2.44")
    return signed_in(client, people.manager_x, schema="xa", host=host_a)


def test_item_page_is_logged_once_with_item_site_ip_and_browser(people, manager):  # noqa: F811
    with schema_context("xa"):
        item = make_item(people)
    assert manager.get(f"/items/{item.pk}/").status_code == 200
    [event] = logged(action=A.ITEM_VIEW)
    assert (event.user, event.object_type, event.object_id) == (
        people.manager_x,
        "stock.stockitem",
        str(item.pk),
    )
    assert (event.object_repr, event.site_id) == (item.sms_number, people.site_x.pk)
    assert (event.ip_address, event.user_agent) == ("192.0.2.44", UA)


def test_an_item_outside_the_scope_is_a_404_and_no_view_is_logged(people, manager):  # noqa: F811
    with schema_context("xa"):
        item_y = make_item(people, site=people.site_y)
    assert manager.get(f"/items/{item_y.pk}/").status_code == 404
    assert logged(action=A.ITEM_VIEW) == []


def test_list_search_with_its_filters_archive_and_dashboard_are_logged(people, manager):  # noqa: F811
    manager.get("/items/", {"q": "KE 24", "site": people.site_x.pk})
    manager.get("/archive/")
    manager.get("/")
    [search] = logged(action=A.ITEM_LIST)
    assert search.details["q"] == "KE 24"
    assert str(search.details["site"]) == str(people.site_x.pk)
    assert len(logged(action=A.ARCHIVE_LIST)) == 1
    assert len(logged(action=A.DASHBOARD_VIEW)) == 1


def test_opening_a_photo_is_logged_under_its_items_number(people, manager):  # noqa: F811
    with schema_context("xa"):
        item = make_item(people)
        photo = services.photo_add(actor=people.manager_x, item=item, upload=jpeg())
    assert manager.get(f"/photos/{photo.pk}/").status_code == 200
    [event] = logged(action=A.PHOTO_VIEW)
    assert (event.object_id, event.object_repr, event.site_id) == (
        str(photo.pk),
        item.sms_number,
        people.site_x.pk,
    )


def test_item_and_photo_views_show_on_the_activity_page_by_item(
    people,  # noqa: F811
    manager,
    host_a,
):
    with schema_context("xa"):
        item = make_item(people)
    manager.get(f"/items/{item.pk}/")
    admin = signed_in(Client(), people.admin, schema="xa", host=host_a)
    html = admin.get("/administration/activity/", {"item": item.sms_number}).content.decode()
    assert "Opened an item" in html and people.manager_x.display_name in html


def test_correction_form_waits_for_approval_when_the_country_asks(
    people,  # noqa: F811
    manager,
    country_a,
):
    Country.objects.filter(pk=country_a.pk).update(corrections_need_approval=True)
    with schema_context("xa"):
        item = make_item(people)
    form = manager.get(f"/items/{item.pk}/correct/").context["form"]
    data = form_data(form)
    data.update({"weight_kg": "10.000", "reason": "Re-weighed"})
    response = manager.post(f"/items/{item.pk}/correct/", data, follow=True)
    assert response.redirect_chain, response.context["form"].errors
    assert "sent to an administrator" in response.content.decode()
    with schema_context("xa"):
        pending = PendingCorrection.objects.get(item=item)
        assert pending.changes["weight_kg"] == "10.000"
        item.refresh_from_db()
        assert str(item.weight_kg) == "12.500"
