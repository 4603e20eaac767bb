"""The items' codes on custody's paper: the manifest, the receipt and the
stock-take sheet draw each item's QR code with stock.labels (exactly its SMS
number, as on its label); a stock-take's labels; the walls."""

import io

import pytest
from django_tenants.utils import schema_context
from pypdf import PdfReader

from accounts.roles import HQ_OFFICER
from audit.models import AccessEvent
from custody import services
from stock import labels
from tests.custody.conftest import dispatch, draft, tusks
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client, host_a):
    def _login(user, host=None):
        client.force_login(user)
        client.defaults["HTTP_HOST"] = host or host_a
        return client

    return _login


@pytest.fixture
def drawn(monkeypatch):
    """The numbers whose QR code a document draws (through stock.labels.draw_qr)."""
    numbers = []
    original = labels.draw_qr

    def record(canvas, sms_number, **kwargs):
        numbers.append(sms_number)
        return original(canvas, sms_number, **kwargs)

    monkeypatch.setattr(labels, "draw_qr", record)
    return numbers


def text_of(response) -> str:
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_the_manifest_carries_each_items_code(reg, login, drawn):
    a, b = tusks(reg, 2)
    transfer = dispatch(reg, draft(reg, [a, b]))
    text_of(login(reg.manager_x).get(f"/transfers/{transfer.pk}/manifest.pdf"))
    assert sorted(drawn) == sorted([a.sms_number, b.sms_number])


def test_the_stocktake_sheet_lists_the_stores_items_with_their_codes(reg, login, drawn):
    a, b = tusks(reg, 2)
    (elsewhere,) = tusks(reg, 1, site=reg.site_y, actor=reg.manager_y)
    stocktake = services.stocktake_open(actor=reg.manager_x, site=reg.site_x)
    text = text_of(login(reg.manager_x).get(f"/stock-takes/{stocktake.pk}/sheet.pdf"))
    assert stocktake.reference in text and "Store X" in text
    assert a.sms_number in text and b.sms_number in text
    assert elsewhere.sms_number not in text
    assert "Counted by" in text and "Witness" in text
    assert sorted(drawn) == sorted([a.sms_number, b.sms_number])


def test_a_stocktakes_labels(reg, login):
    a, b = tusks(reg, 2)
    stocktake = services.stocktake_open(actor=reg.manager_x, site=reg.site_x)
    client = login(reg.manager_x)
    text = text_of(client.get(f"/stock-takes/{stocktake.pk}/labels.pdf?label_format=roll-62x29"))
    assert a.sms_number in text and b.sms_number in text
    page = client.get(f"/stock-takes/{stocktake.pk}/").content.decode()
    assert f"/stock-takes/{stocktake.pk}/sheet.pdf" in page
    assert f"/stock-takes/{stocktake.pk}/labels.pdf" in page
    with schema_context("xa"):
        event = AccessEvent.objects.filter(action=AccessEvent.Action.DOCUMENT_VIEW).get()
    assert event.details["document"] == "labels" and event.details["count"] == 2


def test_another_stores_manager_gets_neither_sheet_nor_labels(reg, login):
    tusks(reg, 2)
    stocktake = services.stocktake_open(actor=reg.manager_x, site=reg.site_x)
    client = login(reg.manager_y)
    assert client.get(f"/stock-takes/{stocktake.pk}/sheet.pdf").status_code == 404
    assert client.get(f"/stock-takes/{stocktake.pk}/labels.pdf").status_code == 404


def test_another_country_gets_neither_sheet_nor_labels(reg, client, country_b, host_b):
    tusks(reg, 1)
    stocktake = services.stocktake_open(actor=reg.manager_x, site=reg.site_x)
    with schema_context(country_b.schema_name):
        client.force_login(make_user(role=HQ_OFFICER, all_sites=True, username="b-hq"))
    client.defaults["HTTP_HOST"] = host_b
    assert client.get(f"/stock-takes/{stocktake.pk}/sheet.pdf").status_code == 404
    assert client.get(f"/stock-takes/{stocktake.pk}/labels.pdf").status_code == 404
