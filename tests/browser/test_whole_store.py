"""The issue's check, in a real Chromium: a whole store of 300 items counted
and moved by scanning (issue 15, "How it will be checked").

Store managers in English, French and Portuguese, at 1366 px and at phone
width (390 px), share the work: the stock-take of every item by scanning its
number (one after another, as a USB scanner types them), signed off with the
confirmation that names how many become missing; then a transfer of the whole
store prepared with the picker's search, filter, scan and "select all shown",
dispatched, and received with "all arrived as dispatched" and three
exceptions. At each step the page is shown to each language at each width:
it must say it is in that language, carry none of the English sentences it
shows in English, and never scroll sideways on a phone. The screenshots go to
$SMS_SCREENSHOTS (or the test's tmp_path) to be looked at.

Slow (300 items registered, 300 scans): `-m "not slow"` leaves it out of a
quick run; `./sms test` runs it.
"""

import re
from decimal import Decimal

import pytest
from django.utils import translation
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tests.browser.test_custody_flows import (
    DESKTOP,
    PHONE,
    _scan,
    _shots,
    _sign_in,
    custody_stores,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ITEMS = 300
LANGUAGES = ("fr", "pt")
# Sentences the English pages show that a French or Portuguese page must not.
ENGLISH = [
    "Check items",
    "Not checked yet",
    "Sign off the stock-take",
    "Record the ticked items",
    "Select all shown",
    "Prepare the transfer",
    "All arrived as dispatched",
    "Record the receipt",
    "Scan or type an SMS number",
    "Weight dispatched",
    "In transit",
    "Reported missing",
]


@pytest.fixture
def store(live_server, country_a, settings, tmp_path):
    with custody_stores(
        live_server, country_a, settings, tmp_path, items=ITEMS, languages=LANGUAGES
    ) as made:
        yield made


@pytest.fixture
def viewers(browser, store, tmp_path):
    """Make Viewers; their browser windows are closed at the end (six each,
    with pages of 300 lines: left open they slow the next tests down)."""
    made = []

    def make(users: dict):
        made.append(Viewers(browser, store, users, _shots(tmp_path)))
        return made[-1]

    yield make
    for group in made:
        for page in group.pages.values():
            page.context.close()


# The innermost elements that reach past a phone's screen, to say what to fix.
_PAST_THE_EDGE = """() => Array.from(document.querySelectorAll("body *"))
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
  .filter((e) => !Array.from(e.children).some(
    (c) => c.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 5)
  .map((e) => e.tagName + "." + e.className + ": " + (e.innerText || e.value || "").slice(0, 60))
"""


class Viewers:
    """One signed-in page per (language, width) for one side of the walk."""

    def __init__(self, browser, store, users: dict, shots):
        self.store, self.shots = store, shots
        self.pages = {
            (language, name): _sign_in(browser, store, user, viewport=viewport)
            for language, user in users.items()
            for name, viewport in (("1366", DESKTOP), ("390", PHONE))
        }

    def look(self, url: str, step: str) -> None:
        """``url`` in every language at every width, screenshot and checked."""
        for (language, width), page in self.pages.items():
            page.goto(url)
            page.screenshot(path=self.shots / f"{step}-{language}-{width}.png", full_page=True)
            assert page.locator("html").get_attribute("lang") == language
            if language != "en":
                text = page.locator("main").inner_text()
                leaks = [sentence for sentence in ENGLISH if sentence in text]
                assert not leaks, f"{step} in {language} shows English: {leaks}"
            if width == "390":
                scroll = page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= PHONE["width"] + 1, (
                    f"{step} in {language} scrolls sideways: {scroll}px, "
                    f"past the edge: {page.evaluate(_PAST_THE_EDGE)}"
                )


def _lines(store, model_filter):
    from custody.models import StockTakeLine

    return StockTakeLine.objects.filter(stocktake__site=store.site, **model_filter)


def test_a_whole_store_counted_by_scanning_and_signed_off(store, viewers, country_a, tmp_path):
    shots = _shots(tmp_path)
    fr_manager, _fr = store.speakers["fr"]
    pt_manager, _pt = store.speakers["pt"]
    viewers = viewers({"en": store.manager, "fr": fr_manager, "pt": pt_manager})
    english = viewers.pages[("en", "1366")]
    english.goto(store.url + "/stock-takes/")
    english.get_by_label("Store").select_option(str(store.site.pk))
    english.get_by_role("button", name="Open").click()
    expect(english.get_by_role("heading", name=re.compile("Stock-take ST-"))).to_be_visible()
    url = english.url
    viewers.look(url, "1-stocktake-opened")

    # Three counters scan the store between them, each number once, one after
    # another without leaving the page: in English at a desk, in French on a
    # phone, in Portuguese at a desk. Two items are not on the shelves.
    first, second, third = store.numbers[:100], store.numbers[100:200], store.numbers[200:-2]
    for (language, width), numbers in (
        (("en", "1366"), first),
        (("fr", "390"), second),
        (("pt", "1366"), third),
    ):
        page = viewers.pages[(language, width)]
        page.goto(url)
        field = page.locator("#id_number")
        expect(field).to_be_focused()
        for number in numbers:
            _scan(page, field, number)
        # Answered one at a time in the order scanned: the last answer is on top.
        expect(page.locator("[data-scan-log] li").first).to_contain_text(
            numbers[-1], timeout=30_000 + len(numbers) * 1_000
        )
        assert page.url == url
        page.screenshot(path=shots / f"2-scanning-{language}-{width}.png", full_page=True)
    expect(page.locator("#items [data-count=found]")).to_have_text(str(ITEMS - 2))
    with schema_context(country_a.schema_name):
        assert _lines(store, {"result": "found"}).count() == ITEMS - 2
        unchecked = set(
            _lines(store, {"result": "unchecked"}).values_list("item__sms_number", flat=True)
        )
    assert unchecked == set(store.numbers[-2:])

    # Sign-off: the page names what becomes missing, and asks for that count.
    viewers.look(url + "#sign-off", "3-sign-off")
    english.goto(url)
    preview = english.locator("#sign-off-preview")
    expect(preview).to_contain_text("Signing off records 2 items")
    expect(preview).to_contain_text("Scales (bag)")
    portuguese = viewers.pages[("pt", "390")]
    portuguese.goto(url)
    confirm = portuguese.locator("#id_confirm_missing")
    expect(confirm).to_have_value("2")
    expect(portuguese.locator("label[for=id_confirm_missing]")).to_contain_text("2")
    portuguese.locator("#sign-off button[type=submit]").click()
    # Without the tick the browser refuses the form: still open.
    with schema_context(country_a.schema_name):
        assert _lines(store, {"outcome": "marked_missing"}).count() == 0
    confirm.check()
    portuguese.locator("#sign-off button[type=submit]").click()
    from custody.models import StockTake

    with translation.override("pt"):
        signed_off = str(StockTake.Status.SIGNED_OFF.label)
    expect(portuguese.locator("h1 .badge")).to_have_text(signed_off)
    with schema_context(country_a.schema_name):
        from stock.models import StockItem

        stocktake = StockTake.objects.get(site=store.site)
        assert stocktake.status == "signed_off"
        assert stocktake.signed_off_by_id == pt_manager.pk
        missing = set(
            StockItem.objects.filter(site=store.site, status="missing").values_list(
                "sms_number", flat=True
            )
        )
        assert missing == set(store.numbers[-2:])
        assert StockItem.objects.filter(site=store.site, status="in_stock").count() == ITEMS - 2
    viewers.look(url, "4-signed-off")
    viewers.look(url + "?show=missing#items", "5-signed-off-missing")


def test_a_whole_store_moved_by_scanning_and_received(store, viewers, country_a, tmp_path):
    shots = _shots(tmp_path)
    senders = viewers(
        {"en": store.manager, **{lang: pair[0] for lang, pair in store.speakers.items()}}
    )
    receivers = viewers(
        {"en": store.receiver, **{lang: pair[1] for lang, pair in store.speakers.items()}}
    )
    picker_url = store.url + f"/transfers/new/?origin={store.site.pk}"
    senders.look(picker_url, "1-picker")

    page = senders.pages[("en", "1366")]
    page.goto(picker_url)
    page.get_by_label("To").select_option(str(store.other.pk))
    page.get_by_label("Reason").fill("Consolidation in the central strongroom")
    page.get_by_label("Authority reference").fill("MIN/2026/31")
    shown = page.locator("[data-picker-shown]")
    chosen = page.locator("[data-picker-chosen]")
    select_all = page.get_by_label("Select all shown")
    expect(shown).to_have_text(str(ITEMS))
    # The search narrows the list to one number's piece; "select all" ticks those only.
    piece = store.numbers[0][:-2]  # e.g. XA-2026-0012: the first hundred or fewer
    page.get_by_label("Find").fill(piece)
    expected = sum(1 for n in store.numbers if n.startswith(piece))
    expect(shown).to_have_text(str(expected))
    select_all.check()
    expect(chosen).to_contain_text(re.compile(rf"\b{expected} items? chosen"))
    # Another type shows none of them; this store's type shows them all.
    with schema_context(country_a.schema_name):
        from stock.models import StockItem

        ours = StockItem.objects.filter(sms_number=store.numbers[0]).get().item_type_id
    page.get_by_label("Find").fill("")
    page.get_by_label("Type", exact=True).select_option(str(store.other_type.pk))
    expect(shown).to_have_text("0")
    page.get_by_label("Type", exact=True).select_option(str(ours))
    expect(shown).to_have_text(str(ITEMS))
    # Ten more by scanning their labels; a number already chosen says so.
    scan = page.get_by_label("Scan or type an SMS number: it is ticked")
    rest = [n for n in store.numbers if not n.startswith(piece)]
    for number in rest[:10]:
        _scan(page, scan, number)
    _scan(page, scan, store.numbers[0])
    expect(page.locator("[data-picker] [data-scan-log] li").first).to_contain_text("already chosen")
    expect(chosen).to_contain_text(f"{expected + 10} items chosen")
    # Then all the rest with "select all shown": the whole store.
    select_all.check()
    expect(chosen).to_contain_text(f"{ITEMS} items chosen")
    page.screenshot(path=shots / "2-picker-all-en-1366.png", full_page=False)
    page.get_by_role("button", name="Prepare the transfer").click()
    expect(page.locator(".messages")).to_contain_text("prepared")
    expect(page.locator("#lines h2")).to_contain_text(f"({ITEMS})")
    transfer_url = page.url
    senders.look(transfer_url, "3-prepared")

    page.goto(transfer_url)
    page.get_by_label("Seal numbers").fill("S-88, S-89")
    page.get_by_label("Courier").fill("Ranger patrol 3")
    page.get_by_label("Dispatching officer").fill("Officer Achieng")
    page.get_by_role("button", name="Dispatch now").click()
    expect(page.locator("h1 .badge")).to_have_text("Dispatched")
    with schema_context(country_a.schema_name):
        from custody.models import Discrepancy, Transfer
        from ledger.models import LedgerEntry
        from stock.models import StockTotal

        transfer = Transfer.objects.get(origin=store.site)
        assert transfer.lines.filter(state="in_transit").count() == ITEMS
        assert StockItem.objects.filter(site=store.site, status="in_transit").count() == ITEMS
        assert LedgerEntry.objects.filter(transfer=transfer, event="dispatched").count() == ITEMS
        # The store's in-stock total is empty now, its in-transit total holds them all.
        totals = dict(StockTotal.objects.filter(site=store.site).values_list("status", "items"))
        assert totals.get("in_stock", 0) == 0 and totals["in_transit"] == ITEMS
    receivers.look(transfer_url, "4-to-receive")

    # The French receiver marks only the exceptions: one absent, one much
    # lighter, one with its seal broken; the rest arrived as dispatched.
    receiving = receivers.pages[("fr", "1366")]
    receiving.goto(transfer_url)
    absent, lighter, broken = store.numbers[5], store.numbers[150], store.numbers[299]
    ids = {}
    with schema_context(country_a.schema_name):
        for number in (absent, lighter, broken):
            ids[number] = str(StockItem.objects.get(sms_number=number).pk)
    receiving.locator(f"select[name=outcome_{ids[absent]}]").select_option("absent")
    receiving.locator(f"input[name=weight_{ids[lighter]}]").fill("1,500")
    receiving.locator(f"input[name=seal_{ids[broken]}]").uncheck()
    receiving.locator("#id_rest_arrived").check()
    expect(receiving.locator("label[for=id_rest_arrived]")).to_contain_text(str(ITEMS))
    receiving.screenshot(path=shots / "5-receiving-fr-1366.png", full_page=False)
    receiving.locator("#receive button[type=submit]").click()
    expect(receiving.locator(".messages")).to_be_visible()
    with schema_context(country_a.schema_name):
        transfer.refresh_from_db()
        assert transfer.status == "partially_received"
        states = dict(transfer.lines.values_list("item__sms_number", "state").order_by())
        assert states[absent] == "missing_reported"
        assert sum(1 for s in states.values() if s == "received") == ITEMS - 1
        arrived = StockItem.objects.filter(site=store.other, status="in_stock")
        assert arrived.count() == ITEMS - 1
        assert not arrived.filter(sms_number=absent).exists()
        assert StockItem.objects.get(sms_number=absent).status == "in_transit"
        assert transfer.lines.get(item__sms_number=lighter).weight_received == Decimal("1.500")
        kinds = sorted(
            Discrepancy.objects.filter(transfer=transfer).values_list("item__sms_number", "kind")
        )
        assert kinds == sorted([(absent, "missing_item"), (lighter, "weight"), (broken, "seal")])
        received = LedgerEntry.objects.filter(transfer=transfer, event="received")
        assert received.count() == ITEMS - 1
        assert (
            received.filter(payload__as_dispatched=True).count() == ITEMS - 2
        )  # the lighter one was weighed
    receivers.look(transfer_url, "6-received")
    # The sender still opens what they sent, and sees where it is now.
    page.goto(transfer_url)
    page.get_by_role("link", name=store.numbers[0]).click()
    expect(page.locator("#sent-away")).to_contain_text(store.other.name)
