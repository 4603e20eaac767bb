"""Custody screens through the real views on a country host: transfer flow,
PDFs, stock-take, ledger check, item timeline, and the walls (another
country's host, a user of another site, a role without the permission)."""

import io

import pytest
from pypdf import PdfReader

from custody import services
from custody.models import Discrepancy, StockTakeLine, Transfer
from stock.models import StockItem
from tests.custody.conftest import check, dispatch, draft, tusks
from tests.stock.conftest import image_bytes, register, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client, host_a):
    def _login(user, host=None):
        client.force_login(user)
        client.defaults["HTTP_HOST"] = host or host_a
        return client

    return _login


def test_transfer_flow_through_the_screens(reg, login):
    a, b = tusks(reg, 2)
    c = login(reg.manager_x)
    page = c.get("/transfers/new/", {"origin": reg.site_x.pk})
    assert page.status_code == 200 and a.sms_number in page.content.decode()
    response = c.post(
        "/transfers/new/",
        {
            "origin": reg.site_x.pk,
            "destination": reg.site_y.pk,
            "items": [str(a.pk), str(b.pk)],
            "reason": "Consolidation",
            "authority_reference": "MIN/7",
        },
    )
    transfer = Transfer.objects.get()
    assert response.status_code == 302 and response.url == f"/transfers/{transfer.pk}/"
    c.post(
        f"/transfers/{transfer.pk}/dispatch/",
        {"seal_numbers": "S-9", "courier": "Patrol", "dispatching_officer": "Officer K"},
    )
    transfer.refresh_from_db()
    assert transfer.status == "dispatched"
    # The receiving manager sees the check form; the sender does not.
    assert "Record the receipt" not in c.get(f"/transfers/{transfer.pk}/").content.decode()
    c = login(reg.manager_y)
    assert "Record the receipt" in c.get(f"/transfers/{transfer.pk}/").content.decode()
    c.post(
        f"/transfers/{transfer.pk}/receive/",
        {
            f"outcome_{a.pk}": "arrived",
            f"seal_{a.pk}": "on",
            f"weight_{a.pk}": "10,050",
            f"outcome_{b.pk}": "arrived",
            f"seal_{b.pk}": "on",
            f"weight_{b.pk}": "11.000",
        },
    )
    transfer.refresh_from_db()
    assert transfer.status == "received"
    discrepancy = Discrepancy.objects.get(transfer=transfer)
    assert discrepancy.item_id == b.pk
    # Only an administrator resolves.
    assert (
        c.post(f"/discrepancies/{discrepancy.pk}/", {"resolution": "keep_weight"}).status_code
        == 404
    )
    c = login(reg.admin)
    response = c.post(
        f"/discrepancies/{discrepancy.pk}/",
        {"resolution": "keep_weight", "note": "Scale at Y is off; recalibrated"},
    )
    assert response.status_code == 302
    discrepancy.refresh_from_db()
    assert discrepancy.resolution == "keep_weight"


def test_manifest_and_receipt_pdfs(reg, login):
    a = register(reg, photos=[upload(image_bytes())])
    (b,) = tusks(reg, 1)
    transfer = dispatch(reg, draft(reg, [a, b]))
    c = login(reg.manager_x)
    response = c.get(f"/transfers/{transfer.pk}/manifest.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert transfer.reference in text
    assert a.sms_number in text and b.sms_number in text
    assert "S-0001, S-0002" in text and "Signature" in text
    services.transfer_receive(actor=reg.manager_y, transfer=transfer, checks=[check(a)])
    receipt = login(reg.manager_y).get(f"/transfers/{transfer.pk}/receipt.pdf")
    reader = PdfReader(io.BytesIO(receipt.content))
    assert "receipt" in "".join(p.extract_text() for p in reader.pages).lower()
    assert c.get(f"/transfers/{transfer.pk}/other.pdf").status_code == 404


def test_transfers_are_invisible_outside_scope_and_country(reg, login, host_b):
    from accounts.roles import STORE_MANAGER
    from tests.factories import SiteFactory, make_user

    (a,) = tusks(reg, 1)
    transfer = draft(reg, [a])
    site_z = SiteFactory(code="site-z")
    outsider = make_user(role=STORE_MANAGER, sites=[site_z])
    c = login(outsider)
    assert c.get(f"/transfers/{transfer.pk}/").status_code == 404
    assert c.get(f"/transfers/{transfer.pk}/manifest.pdf").status_code == 404
    assert c.post(f"/transfers/{transfer.pk}/cancel/", {"reason": "x"}).status_code == 404
    assert transfer.reference not in c.get("/transfers/").content.decode()
    # The destination sees it but cannot dispatch it.
    c = login(reg.manager_y)
    assert c.get(f"/transfers/{transfer.pk}/").status_code == 200
    assert (
        c.post(
            f"/transfers/{transfer.pk}/dispatch/",
            {"seal_numbers": "S", "courier": "C", "dispatching_officer": "O"},
        ).status_code
        == 403
    )
    assert Transfer.objects.get(pk=transfer.pk).status == "draft"
    # Country B's host knows nothing of it (the session does not even exist there).
    c = login(reg.manager_x, host=host_b)
    assert c.get(f"/transfers/{transfer.pk}/").status_code in (302, 404)


def test_transfers_are_country_walled(reg, country_b, client):
    from django_tenants.utils import schema_context

    from accounts.roles import STORE_MANAGER
    from tests.factories import SiteFactory, make_user

    (a,) = tusks(reg, 1)
    transfer = draft(reg, [a])
    with schema_context(country_b.schema_name):
        b_site = SiteFactory(code="b-site")
        b_manager = make_user(role=STORE_MANAGER, sites=[b_site], all_sites=True)
        assert not Transfer.objects.filter(pk=transfer.pk).exists()
        # Sessions live in the country schema.
        client.force_login(b_manager)
    client.defaults["HTTP_HOST"] = country_b.host
    assert client.get(f"/transfers/{transfer.pk}/").status_code == 404
    assert transfer.reference not in client.get("/transfers/").content.decode()


def test_stocktake_screens_and_item_timeline(reg, login):
    a, b = tusks(reg, 2)
    c = login(reg.auditor)
    response = c.post("/stock-takes/", {"site": reg.site_x.pk})
    assert response.status_code == 302
    stocktake_url = response.url
    c.post(stocktake_url + "check/", {"item": a.pk, "result": "found", "weight_kg": "10.100"})
    page = c.get(stocktake_url).content.decode()
    assert "Weight differences" in page
    c.post(stocktake_url + "sign-off/", {"note": "done", "confirm_missing": "1"})
    assert StockItem.objects.get(pk=b.pk).status == "missing"
    # The item page shows its chain of custody, verified.
    c = login(reg.manager_x)
    page = c.get(f"/items/{b.pk}/").content.decode()
    assert "Chain of custody verified" in page
    assert page.index("Registered") < page.index("Missing at a stock-take")
    # Manager Y doesn't see X's stock-take.
    assert login(reg.manager_y).get(stocktake_url).status_code == 404


def test_ledger_check_page_is_for_auditors(reg, login):
    tusks(reg, 1)
    assert login(reg.manager_x).get("/ledger/").status_code == 404
    page = login(reg.auditor).get("/ledger/")
    assert page.status_code == 200 and "The ledger is intact" in page.content.decode()


def test_ledger_page_shows_the_key_offers_the_checkpoint_and_checks_one(reg, login, host_b):
    from ledger import checkpoints, signing

    tusks(reg, 2)
    c = login(reg.auditor)
    page = c.get("/ledger/").content.decode()
    assert signing.public_key_text() in page and signing.fingerprint() in page
    assert "Download the checkpoint" in page
    download = c.get("/ledger/checkpoint.json")
    assert download.status_code == 200 and download["Content-Type"] == "application/json"
    assert download["Content-Disposition"].startswith("attachment; filename=")
    checkpoint = checkpoints.parse(download.content.decode())
    assert checkpoint.country == "XA" and checkpoints.check(checkpoint).ok

    tusks(reg, 1)
    page = c.post("/ledger/", {"checkpoint": checkpoint.token()}).content.decode()
    assert "The chain still contains checkpoint" in page
    forged = checkpoint.token().replace(" XA ", " XB ")
    page = c.post("/ledger/", {"checkpoint": forged}).content.decode()
    assert "for country XB" in page
    page = c.post("/ledger/", {"checkpoint": "nonsense"}).content.decode()
    assert "No ledger checkpoint found" in page

    # A role without the ledger check, and another country's host, get nothing.
    manager = login(reg.manager_x)
    assert manager.get("/ledger/checkpoint.json").status_code == 404
    assert manager.post("/ledger/", {"checkpoint": checkpoint.token()}).status_code == 404
    elsewhere = login(reg.auditor, host=host_b).get("/ledger/checkpoint.json")
    assert elsewhere.status_code in (302, 404)


def _field(page: str, name: str) -> str:
    """The HTML of one field: from its wrapper to the next field's."""
    start = page.index(f'id="field-{name}"')
    end = page.find('id="field-', start + 1)
    return page[start : end if end != -1 else None]


def test_a_dispatch_without_seal_numbers_says_so_next_to_the_field(reg, login):
    (a,) = tusks(reg, 1)
    transfer = draft(reg, [a])
    c = login(reg.manager_x)
    response = c.post(
        f"/transfers/{transfer.pk}/dispatch/",
        {"seal_numbers": "  ", "courier": "Patrol", "dispatching_officer": "Officer K"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Give the numbers of the seals on the packages." in _field(page, "seal_numbers")
    assert "Give the numbers" not in _field(page, "courier")
    # What was typed stays; nothing moved.
    assert 'value="Patrol"' in page
    transfer.refresh_from_db()
    assert transfer.status == "draft" and transfer.dispatched_at is None
    assert StockItem.objects.get(pk=a.pk).status == "in_stock"


def test_bad_input_on_the_custody_screens_shows_next_to_its_field(reg, login):
    a, b, counted = tusks(reg, 3)
    c = login(reg.manager_x)
    # Preparing a transfer without a reason.
    page = c.post(
        "/transfers/new/",
        {"origin": reg.site_x.pk, "destination": reg.site_y.pk, "items": [str(a.pk)]},
    ).content.decode()
    assert "Say why the items are moved." in _field(page, "reason")
    assert not Transfer.objects.exists()
    # Receiving with a weight that is not a number.
    transfer = dispatch(reg, draft(reg, [a, b]))
    c = login(reg.manager_y)
    page = c.post(
        f"/transfers/{transfer.pk}/receive/",
        {f"outcome_{a.pk}": "arrived", f"seal_{a.pk}": "on", f"weight_{a.pk}": "heavy"},
    ).content.decode()
    assert "Enter a number of kilograms" in _field(page, f"weight_{a.pk}")
    assert StockItem.objects.get(pk=a.pk).status == "in_transit"
    # A stock-take check with a weight of 0, then opening a second one of the same site.
    c = login(reg.auditor)
    stocktake_url = c.post("/stock-takes/", {"site": reg.site_x.pk}).url
    page = c.post(
        stocktake_url + "check/", {"item": counted.pk, "result": "found", "weight_kg": "0"}
    ).content.decode()
    assert "The weight must be more than 0 kg." in _field(page, f"weight_kg-{counted.pk}")
    assert StockTakeLine.objects.get(item=counted).result == "unchecked"
    page = c.post("/stock-takes/", {"site": reg.site_x.pk}).content.decode()
    assert "A stock-take of this site is already open." in _field(page, "site")


def test_a_found_item_with_bad_input_shows_each_error_next_to_its_field(reg, login):
    c = login(reg.manager_x)
    stocktake_url = c.post("/stock-takes/", {"site": reg.site_x.pk}).url
    before = StockItem.objects.count()
    page = c.post(
        stocktake_url + "add/",
        {
            "item_type": reg.tusk.pk,
            "weight_kg": "0",
            "cites_mark": "not a mark",
            "notes": "Behind the door",
        },
    )
    assert page.status_code == 200
    page = page.content.decode()
    assert "The weight must be more than 0 kg." in _field(page, "weight_kg")
    assert "errorlist" in _field(page, "cites_mark")
    # What was typed is kept; nothing was saved.
    assert 'value="Behind the door"' in _field(page, "notes")
    assert f'<option value="{reg.tusk.pk}" selected>' in _field(page, "item_type")
    assert StockItem.objects.count() == before
    assert not StockTakeLine.objects.filter(expected=False).exists()
    # No type chosen: said at the type.
    page = c.post(stocktake_url + "add/", {"weight_kg": "3"}).content.decode()
    assert "Choose the item type." in _field(page, "item_type")
    # Put right, it is registered and listed as an addition.
    response = c.post(
        stocktake_url + "add/", {"item_type": reg.tusk.pk, "weight_kg": "3,5", "notes": "x"}
    )
    assert response.status_code == 302
    line = StockTakeLine.objects.get(expected=False)
    assert line.item.site == reg.site_x and str(line.item.weight_kg) == "3.500"
    # A manager of another site cannot add to this stock-take.
    assert login(reg.manager_y).post(stocktake_url + "add/", {}).status_code == 404


def test_sign_off_page_shows_what_becomes_missing_and_needs_the_confirmation(reg, login):
    a, b, c = tusks(reg, 3)
    c_ = login(reg.manager_x)
    stocktake_url = c_.post("/stock-takes/", {"site": reg.site_x.pk}).url
    c_.post(stocktake_url + "check/", {"item": a.pk, "result": "found"})
    page = c_.get(stocktake_url).content.decode()
    assert "Signing off records 2 items (20.000 kg) as missing." in page
    assert 'name="confirm_missing" id="id_confirm_missing" value="2"' in page
    assert "Record 2 items as missing" in page

    # Without the tick, or with another count: refused, nothing changed.
    for data, message in (
        ({"note": "done"}, "Confirm that 2 items will be recorded as missing."),
        ({"note": "done", "confirm_missing": "75"}, "recorded as missing, not 75."),
    ):
        response = c_.post(stocktake_url + "sign-off/", data)
        assert response.status_code == 200
        body = response.content.decode()
        assert "Nothing was saved." in body and message in body
        assert StockItem.objects.filter(status="missing").count() == 0
    response = c_.post(stocktake_url + "sign-off/", {"note": "done", "confirm_missing": "2"})
    assert response.status_code == 302
    assert {b.pk, c.pk} == set(
        StockItem.objects.filter(status="missing").values_list("pk", flat=True)
    )
    # A store manager of another site: the page with the preview is 404.
    assert login(reg.manager_y).get(stocktake_url).status_code == 404


def test_a_store_with_nothing_in_stock_stays_on_the_dashboard(reg, login):
    (a,) = tusks(reg, 1)
    tusks(reg, 1, site=reg.site_y, actor=reg.manager_y)
    stocktake = services.stocktake_open(actor=reg.manager_x, site=reg.site_x)
    services.stocktake_sign_off(actor=reg.manager_x, stocktake=stocktake, confirm_missing=1)
    assert StockItem.objects.get(pk=a.pk).status == "missing"
    page = login(reg.admin).get("/").content.decode()
    table = page[page.index("By store") :]
    table = table[: table.index("</table>")]
    assert reg.site_x.name in table and reg.site_y.name in table
    row = table[table.index(reg.site_x.name) :]
    row = row[: row.index("</tr>")]
    assert ">0<" in row and "0.000 kg" in row


def test_the_ledger_page_fails_when_entries_were_cut_since_its_last_check(reg, login):
    """ledger_truncate.py: the tail deleted and the head reset passed the page."""
    from ledger.models import LedgerEntry
    from tests.ledger.helpers import tamper

    tusks(reg, 3)
    c = login(reg.auditor)
    assert "The ledger is intact" in c.get("/ledger/").content.decode()
    last = LedgerEntry.objects.order_by("-sequence").first().sequence
    kept = LedgerEntry.objects.get(sequence=last - 2)
    tamper("DELETE FROM custody_ledgerentry WHERE sequence > %s", [kept.sequence])
    tamper(
        "UPDATE custody_ledgerhead SET last_sequence = %s, last_hash = %s WHERE id = 1",
        [kept.sequence, kept.hash],
    )
    page = c.get("/ledger/").content.decode()
    assert "The ledger is intact" not in page
    assert "entries removed since the last check" in page
    assert f"({last} was verified on " in page
    assert "SMS-LEDGER-CHECKPOINT-1 XA" not in page  # no checkpoint signed for the cut chain
    assert c.get("/ledger/checkpoint.json").status_code != 200
