"""Stock-takes and transfers at the scale of a real store, through the pages:
scanning numbers, ticking many, "all the rest found", the paged list;
preparing a transfer by numbers, filter and "all the filter shows";
receiving "all arrived as dispatched" but the exceptions; who received; the
sender still reading what they sent (and nothing more) — each from the
wrong side of its wall too."""

import io

import pytest
from pypdf import PdfReader

from accounts.roles import STORE_MANAGER
from custody import services
from custody.models import Discrepancy, StockTakeLine, Transfer, TransferItem
from ledger.models import LedgerEntry
from stock.models import StockItem
from tests.custody.conftest import dispatch, draft, tusks
from tests.factories import SiteFactory, make_user
from tests.stock.conftest import image_bytes, register, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client, host_a):
    def _login(user, host=None):
        client.force_login(user)
        client.defaults["HTTP_HOST"] = host or host_a
        return client

    return _login


def _open(c, site) -> str:
    response = c.post("/stock-takes/", {"site": site.pk})
    assert response.status_code == 302
    return response.url


def _scan(c, url, number, *, as_json=True):
    headers = {"HTTP_ACCEPT": "application/json"} if as_json else {}
    return c.post(url + "scan/", {"number": number}, **headers)


# --- Stock-takes ------------------------------------------------------------------


def test_scanning_checks_one_item_each_and_says_what_it_found(reg, login):
    a, b, c_item = tusks(reg, 3)
    (elsewhere,) = tusks(reg, 1, site=reg.site_y, actor=reg.manager_y)
    c = login(reg.manager_x)
    url = _open(c, reg.site_x)

    answer = _scan(c, url, f"  {a.sms_number.lower()} ").json()
    assert answer["outcome"] == "found" and answer["level"] == "success"
    assert answer["message"] == f"{a.sms_number}: found."
    assert answer["counts"]["unchecked"] == 2 and answer["counts"]["found"] == 1
    # The sign-off count the page must show again is in the answer, and the
    # report's found weight, which follows the found count.
    assert answer["missing"] == 2
    assert answer["found_weight"] == "10.000 kg"
    line = StockTakeLine.objects.get(item=a)
    assert line.result == "found" and line.checked_by == reg.manager_x
    assert LedgerEntry.objects.filter(event="stocktake_checked", item=a).count() == 1

    # A second scan changes nothing and says so.
    again = _scan(c, url, a.sms_number).json()
    assert again["outcome"] == "already" and "already checked (Found" in again["message"]
    assert LedgerEntry.objects.filter(event="stocktake_checked", item=a).count() == 1
    # Another store's item, an unknown number: not in this stock-take.
    for number in (elsewhere.sms_number, "XA-1999-999999"):
        answer = _scan(c, url, number).json()
        assert answer["outcome"] == "not_listed"
        assert "not in this stock-take" in answer["message"]
    assert StockTakeLine.objects.filter(item=elsewhere).count() == 0
    # The CITES mark on a label finds the item too.
    assert _scan(c, url, b.cites_mark).json()["outcome"] == "found"
    # Blank: said, nothing written.
    assert _scan(c, url, "  ").json()["outcome"] == "invalid"

    # Without JavaScript: back to the page with the answer on top.
    response = _scan(c, url, c_item.sms_number, as_json=False)
    assert response.status_code == 302 and response.url.endswith("#scan")
    page = c.get(url).content.decode()
    assert f"{c_item.sms_number}: found." in page
    assert 'name="number"' in page and "autofocus" in page


def test_scanning_is_walled(reg, login):
    (a,) = tusks(reg, 1)
    url = _open(login(reg.manager_x), reg.site_x)
    # A store manager of another store: the stock-take does not exist for them.
    assert _scan(login(reg.manager_y), url, a.sms_number).status_code == 404
    # An HQ officer sees the stock-take but may not count.
    assert _scan(login(reg.hq), url, a.sms_number).status_code == 403
    # Another country's host: no such stock-take there.
    assert StockTakeLine.objects.get(item=a).result == "unchecked"


def test_ticking_many_records_them_all_or_nothing(reg, login):
    a, b, c_item = tusks(reg, 3)
    (elsewhere,) = tusks(reg, 1, site=reg.site_y, actor=reg.manager_y)
    c = login(reg.auditor)
    url = _open(c, reg.site_x)
    # One ticked value not on the list: nothing is recorded.
    response = c.post(
        url + "check-many/", {"items": [str(a.pk), str(elsewhere.pk)], "result": "found"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was saved." in page and "not on this list" in page
    assert not StockTakeLine.objects.exclude(result="unchecked").exists()
    # Nothing ticked: said.
    page = c.post(url + "check-many/", {"result": "found"}).content.decode()
    assert "Tick at least one item." in page

    response = c.post(url + "check-many/", {"items": [str(a.pk), str(b.pk)], "result": "damaged"})
    assert response.status_code == 302
    assert set(
        StockTakeLine.objects.filter(result="damaged").values_list("item_id", flat=True)
    ) == {
        a.pk,
        b.pk,
    }
    assert "2 items recorded: Found damaged." in c.get(url).content.decode()
    # Another store's auditor can't.
    assert (
        login(reg.auditor_y)
        .post(url + "check-many/", {"items": [str(c_item.pk)], "result": "found"})
        .status_code
        == 404
    )


def test_all_the_rest_found_needs_the_count_shown(reg, login):
    a, *rest = tusks(reg, 4)
    c = login(reg.manager_x)
    url = _open(c, reg.site_x)
    _scan(c, url, a.sms_number)
    page = c.get(url).content.decode()
    assert "All the 3 items not checked yet are here: record them as found" in page
    assert 'name="confirm_rest" id="id_confirm_rest" value="3"' in page
    # Meanwhile someone else checks one: the page's count is stale, nothing is recorded.
    services.stocktake_check(
        actor=reg.auditor,
        stocktake=StockTakeLine.objects.get(item=a).stocktake,
        item=rest[0],
        result="missing",
    )
    response = c.post(url + "check-rest/", {"confirm_rest": "3"})
    assert response.status_code == 200
    assert "2 items are not checked now, not 3" in response.content.decode()
    assert StockTakeLine.objects.filter(result="unchecked").count() == 2
    # Without the tick: asked for.
    assert (
        "Confirm that the 2 items not checked yet were found."
        in c.post(url + "check-rest/", {}).content.decode()
    )
    response = c.post(url + "check-rest/", {"confirm_rest": "2"})
    assert response.status_code == 302
    assert StockTakeLine.objects.filter(result="unchecked").count() == 0
    assert StockTakeLine.objects.get(item=rest[0]).result == "missing"
    # Sign-off then records the one missing, confirmed by its count.
    page = c.get(url).content.decode()
    assert "Signing off records 1 item (10.000 kg) as missing." in page
    assert login(reg.manager_y).post(url + "check-rest/", {"confirm_rest": "0"}).status_code == 404


def test_the_stock_take_list_is_paged_and_filtered(reg, login):
    items = tusks(reg, 55)
    c = login(reg.manager_x)
    url = _open(c, reg.site_x)
    page = c.get(url).content.decode()
    # 50 rows a page, no form per row; the rest on the next page.
    assert page.count('name="items" value=') == 50
    assert page.count("<form") < 10
    first = sorted(i.sms_number for i in items)
    assert first[0] in page and first[-1] not in page
    assert 'rel="next"' in page
    _scan(c, url, first[-1])
    found = c.get(url, {"show": "found"}).content.decode()
    assert found.count('name="items" value=') == 1 and first[-1] in found
    unchecked = c.get(url, {"show": "unchecked", "q": first[3][-6:]}).content.decode()
    assert unchecked.count('name="items" value=') == 1 and first[3] in unchecked
    # The details of one line are a page of their own, walled.
    line_url = f"{url}items/{items[0].pk}/"
    assert c.get(line_url).status_code == 200
    assert login(reg.manager_y).get(line_url).status_code == 404


# --- Transfers --------------------------------------------------------------------


def _prepare(c, site, **extra):
    data = {
        "origin": site.pk,
        "reason": "Consolidation",
        "authority_reference": "MIN/7",
        "action": "prepare",
        **extra,
    }
    return c.post("/transfers/new/", data)


def test_preparing_by_numbers_filter_and_all_the_filter_shows(reg, login):
    tusks_ = tusks(reg, 4)
    lot = register(reg, item_type=reg.scales)
    (elsewhere,) = tusks(reg, 1, site=reg.site_y, actor=reg.manager_y)
    c = login(reg.manager_x)
    page = c.get("/transfers/new/", {"origin": reg.site_x.pk}).content.decode()
    assert "Select all shown" in page and "Send all 5 items the filter shows" in page

    # A number not in stock here: said next to the field, nothing prepared.
    response = _prepare(
        c,
        reg.site_x,
        destination=reg.site_y.pk,
        numbers=f"{tusks_[0].sms_number}\n{elsewhere.sms_number}",
    )
    assert response.status_code == 200
    assert "or already in a transfer: " + elsewhere.sms_number in response.content.decode()
    assert not Transfer.objects.exists()

    # The Filter button (no JavaScript) narrows the list and keeps what was chosen.
    page = _prepare(
        c,
        reg.site_x,
        destination=reg.site_y.pk,
        action="filter",
        item_type=reg.tusk.pk,
        items=[str(lot.pk)],
    ).content.decode()
    assert "Send all 4 items the filter shows" in page
    assert f'<input type="hidden" name="items" value="{lot.pk}">' in page
    assert not Transfer.objects.exists()

    # "All the filter shows" with a stale count: refused.
    response = _prepare(
        c, reg.site_x, destination=reg.site_y.pk, item_type=reg.tusk.pk, all_matching="5"
    )
    assert "the filter now shows 4 items, not 5" in response.content.decode()
    assert not Transfer.objects.exists()

    # All the tusks by the filter, the lot by its number (lower case, a scanner's Enter).
    response = _prepare(
        c,
        reg.site_x,
        destination=reg.site_y.pk,
        item_type=reg.tusk.pk,
        all_matching="4",
        numbers=f"{lot.sms_number.lower()}\n",
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get()
    assert set(transfer.lines.values_list("item_id", flat=True)) == {
        *(t.pk for t in tusks_),
        lot.pk,
    }
    # A manager of another store can't prepare from this one.
    response = _prepare(login(reg.manager_y), reg.site_x, destination=reg.site_y.pk)
    assert Transfer.objects.count() == 1


def test_receiving_all_as_dispatched_but_the_exceptions(reg, login):
    items = tusks(reg, 6)
    transfer = dispatch(reg, draft(reg, items))
    a, b, c_item, d, *others = items
    c = login(reg.manager_y)
    page = c.get(f"/transfers/{transfer.pk}/").content.decode()
    assert "Not yet checked" in page and ">Arrived<" in page and ">Missing<" in page
    assert 'name="rest_arrived" id="id_rest_arrived" value="6"' in page

    data = {
        f"outcome_{a.pk}": "absent",
        f"outcome_{b.pk}": "arrived",
        f"weight_{b.pk}": "11,5",
        f"seal_{b.pk}": "on",
        f"note_{c_item.pk}": "Seal cut",
        # c's seal box left unticked: broken; the rest ticked, as the page draws them.
        **{f"seal_{i.pk}": "on" for i in (d, *others)},
    }
    # A stale count: nothing saved.
    response = c.post(f"/transfers/{transfer.pk}/receive/", {**data, "rest_arrived": "7"})
    assert "6 items are on their way now, not 7" in response.content.decode()
    assert not TransferItem.objects.filter(received_at__isnull=False).exists()

    response = c.post(f"/transfers/{transfer.pk}/receive/", {**data, "rest_arrived": "6"})
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == "partially_received"
    states = dict(transfer.lines.values_list("item_id", "state"))
    assert states[a.pk] == "missing_reported"
    assert all(states[i.pk] == "received" for i in (b, c_item, d, *others))
    lines = {ln.item_id: ln for ln in transfer.lines.all()}
    # As dispatched: the dispatched weight; b's typed weight kept.
    assert lines[d.pk].weight_received == lines[d.pk].weight_dispatched
    assert str(lines[b.pk].weight_received) == "11.500"
    kinds = set(Discrepancy.objects.values_list("item_id", "kind"))
    assert kinds == {(a.pk, "missing_item"), (b.pk, "weight"), (c_item.pk, "seal")}
    assert LedgerEntry.objects.filter(
        event="received", item=d, payload__as_dispatched=True
    ).exists()
    assert StockItem.objects.get(pk=d.pk).site == reg.site_y

    # Who received and when: on the page and on the receipt.
    page = c.get(f"/transfers/{transfer.pk}/").content.decode()
    name = reg.manager_y.display_name
    assert f"{name}, " in page and "(5 items)" in page
    receipt = c.get(f"/transfers/{transfer.pk}/receipt.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt.content)).pages)
    assert "Received" in text and name in text and "(5 items)" in text
    # Every line links to its item (the receiver holds them now).
    assert f'href="/items/{d.pk}/"' in page


def test_receiving_by_scanned_numbers_without_javascript(reg, login):
    a, b = tusks(reg, 2)
    transfer = dispatch(reg, draft(reg, [a, b]))
    c = login(reg.manager_y)
    response = c.post(
        f"/transfers/{transfer.pk}/receive/",
        {"numbers": f"{a.sms_number}\nXA-1999-000001", f"seal_{a.pk}": "on"},
    )
    assert "Not on their way in this transfer: XA-1999-000001" in response.content.decode()
    assert not TransferItem.objects.filter(received_at__isnull=False).exists()
    response = c.post(
        f"/transfers/{transfer.pk}/receive/", {"numbers": a.sms_number, f"seal_{a.pk}": "on"}
    )
    assert response.status_code == 302
    assert dict(transfer.lines.values_list("item_id", "state")) == {
        a.pk: "received",
        b.pk: "in_transit",
    }
    # The sender can't receive.
    response = login(reg.manager_x).post(
        f"/transfers/{transfer.pk}/receive/", {"numbers": b.sms_number, f"seal_{b.pk}": "on"}
    )
    assert response.status_code == 403
    assert TransferItem.objects.get(item=b).state == "in_transit"


# --- The sender reads what they sent ------------------------------------------------


def test_the_sender_reads_what_they_sent_and_nothing_else(reg, login):
    sent = register(reg, photos=[upload(image_bytes())])
    (kept_y,) = tusks(reg, 1, site=reg.site_y, actor=reg.manager_y)
    transfer = dispatch(reg, draft(reg, [sent]))
    services.transfer_receive(
        actor=reg.manager_y,
        transfer=transfer,
        checks=[services.ReceiptCheck(item_id=sent.pk, present=True, as_dispatched=True)],
    )
    assert StockItem.objects.get(pk=sent.pk).site == reg.site_y
    c = login(reg.manager_x)
    page = c.get(f"/items/{sent.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Your store sent this item away: you see it read-only." in body
    assert "Store Y" in body and "Correct</a>" not in body
    # Its photo opens too; writes stay walled.
    photo = sent.photos.get()
    assert c.get(f"/photos/{photo.pk}/thumbnail/").status_code == 200
    assert login(reg.manager_x).get(f"/photos/{photo.pk}/thumbnail/").status_code == 200
    assert c.get(f"/items/{sent.pk}/correct/").status_code == 404
    assert c.get(f"/items/{sent.pk}/archive/").status_code == 404
    # The transfer page links to it.
    assert f'href="/items/{sent.pk}/"' in c.get(f"/transfers/{transfer.pk}/").content.decode()
    # An item of store Y this manager never held: still 404, page and link.
    assert c.get(f"/items/{kept_y.pk}/").status_code == 404
    # A manager of a third store never involved: 404.
    site_z = SiteFactory(code="site-z", name="Store Z")
    manager_z = make_user(role=STORE_MANAGER, sites=[site_z])
    assert login(manager_z).get(f"/items/{sent.pk}/").status_code == 404
    # The receiver sees it as theirs (not read-only).
    body = login(reg.manager_y).get(f"/items/{sent.pk}/").content.decode()
    assert "read-only" not in body and "Correct</a>" in body


def test_a_draft_never_dispatched_widens_nothing(reg, login):
    """Only a dispatch (in the ledger) counts as sending: a cancelled draft
    leaves the item where it was, and an item sent by another store to
    this manager's store and sent on stays theirs to read only through
    their own dispatch."""
    (item_y,) = tusks(reg, 1, site=reg.site_y, actor=reg.manager_y)
    site_z = SiteFactory(code="site-z", name="Store Z")
    # Y sends it to Z: the manager of X had nothing to do with it.
    transfer = dispatch(
        reg,
        draft(reg, [item_y], actor=reg.manager_y, origin=reg.site_y, destination=site_z),
        actor=reg.manager_y,
    )
    manager_z = make_user(role=STORE_MANAGER, sites=[site_z])
    services.transfer_receive(
        actor=manager_z,
        transfer=transfer,
        checks=[services.ReceiptCheck(item_id=item_y.pk, present=True, as_dispatched=True)],
    )
    c = login(reg.manager_x)
    assert c.get(f"/items/{item_y.pk}/").status_code == 404
    assert c.get(f"/transfers/{transfer.pk}/").status_code == 404
    # Manager Y, who sent it, reads it.
    assert login(reg.manager_y).get(f"/items/{item_y.pk}/").status_code == 200


# --- A whole store in a few statements ------------------------------------------------


def _statements(call) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries.captured_queries)


def _whole_store_walk(reg, count):
    """Two new stores; a stock-take of ``count`` items checked with "all the
    rest found" and signed off with two missing, then the rest sent,
    dispatched and received (one absent): the statements of each write."""
    from ledger.chain import verify_chain
    from stock.models import StockTotal

    here, there = SiteFactory(), SiteFactory()
    sender = make_user(role=STORE_MANAGER, sites=[here])
    receiver = make_user(role=STORE_MANAGER, sites=[there])
    items = tusks(reg, count, site=here, actor=sender)
    spent = {}
    take = services.stocktake_open(actor=sender, site=here)
    services.stocktake_check_many(actor=sender, stocktake=take, items=items[:2], result="missing")
    spent["rest"] = _statements(
        lambda: services.stocktake_check_rest(actor=sender, stocktake=take, confirm=count - 2)
    )
    spent["sign_off"] = _statements(
        lambda: services.stocktake_sign_off(actor=sender, stocktake=take, confirm_missing=2)
    )
    sent = items[2:]
    transfer = draft(reg, sent, actor=sender, origin=here, destination=there)
    spent["dispatch"] = _statements(lambda: dispatch(reg, transfer, actor=sender))
    assert StockItem.objects.filter(site=here, status="in_transit").count() == count - 2
    checks = [
        services.ReceiptCheck(item_id=i.pk, present=i != sent[0], as_dispatched=True) for i in sent
    ]
    spent["receive"] = _statements(
        lambda: services.transfer_receive(actor=receiver, transfer=transfer, checks=checks)
    )
    # What the pages rely on, whatever the size.
    assert StockItem.objects.filter(site=there, status="in_stock").count() == count - 3
    assert StockItem.objects.get(pk=sent[0].pk).status == "in_transit"
    assert StockItem.objects.filter(site=here, status="missing").count() == 2
    assert StockTakeLine.objects.filter(stocktake=take, result="found").count() == count - 2
    transfer.refresh_from_db()
    assert transfer.status == "partially_received"
    assert Discrepancy.objects.filter(transfer=transfer, kind="missing_item").count() == 1
    for event, expected in (("dispatched", count - 2), ("received", count - 3)):
        assert LedgerEntry.objects.filter(transfer=transfer, event=event).count() == expected
    assert LedgerEntry.objects.filter(stocktake=take, event="stocktake_missing").count() == 2
    assert LedgerEntry.objects.filter(stocktake=take, event="stocktake_checked").count() == count
    # The totals moved with the items.
    totals = {
        (t.site_id, t.status): t.items
        for t in StockTotal.objects.filter(site__in=[here, there]).exclude(items=0)
    }
    assert totals == {
        (here.pk, "missing"): 2,
        (here.pk, "in_transit"): 1,
        (there.pk, "in_stock"): count - 3,
    }
    # The chain still links and verifies after the batches.
    assert verify_chain(full=True).problem is None
    return spent


def test_a_whole_store_is_counted_and_moved_in_a_few_statements_whatever_its_size(reg):
    # Dispatch and receipt wrote about ten statements an item (18 s for 300
    # items under load): the item, the totals, the aggregates and a signed
    # ledger entry each. Now a store of 24 takes as many as a store of 6.
    _whole_store_walk(reg, 4)  # settings rows and caches made once
    small = _whole_store_walk(reg, 6)
    big = _whole_store_walk(reg, 24)
    assert big == small, (small, big)


def test_the_receipt_of_a_whole_store_is_one_form_as_the_browser_sends_it(reg, login):
    # The browser posts all four inputs of every line on its way: 260 lines
    # are 1,042 fields, past Django's default limit of 1,000 (a 400 page).
    items = tusks(reg, 260)
    transfer = draft(reg, items)
    dispatch(reg, transfer)
    data = {"rest_arrived": "260"}
    for item in items:
        data.update(
            {
                f"outcome_{item.pk}": "",
                f"seal_{item.pk}": "on",
                f"weight_{item.pk}": "",
                f"note_{item.pk}": "",
            }
        )
    data[f"outcome_{items[0].pk}"] = "absent"
    response = login(reg.manager_y).post(f"/transfers/{transfer.pk}/receive/", data)
    assert response.status_code == 302, response.content[:500]
    assert StockItem.objects.filter(site=reg.site_y, status="in_stock").count() == 259
    assert TransferItem.objects.get(transfer=transfer, item=items[0]).state == "missing_reported"
