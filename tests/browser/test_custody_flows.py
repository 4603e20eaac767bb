"""Stock-take by scanning with sign-off, and a transfer prepared with
"select all shown" and received with "all arrived as dispatched", in a real
Chromium (issue 15 item 11): a USB scanner types a number and Enter, which
the page answers at once without leaving it. Screenshots at 1366 px and at
phone width go to $SMS_SCREENSHOTS (or the test's tmp_path) to be looked at.

As in test_register_flow, the setup is committed (transactional test) and
removed at the end by the database owner; the ledger entries stay (the chain
is append-only, and an entry naming a removed item is still a valid link).
"""

import os
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pgtrigger
import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from accounts.roles import STORE_MANAGER
from tests.browser.test_register_flow import _user_remove
from tests.database_roles import database_owner
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
# A bigger store for a manual look at paging and long lists:
# SMS_BROWSER_STORE_ITEMS=300 ./sms test tests/browser/test_custody_flows.py
ITEMS = int(os.environ.get("SMS_BROWSER_STORE_ITEMS") or 14)


@dataclass
class Stores:
    url: str
    site: object
    other: object
    manager: object
    receiver: object
    numbers: list
    # The same two roles in other languages: {"fr": (manager, receiver), ...}
    speakers: dict = field(default_factory=dict)
    # A second type of the same category, of which the stores hold nothing.
    other_type: object = None


def _shots(tmp_path) -> Path:
    folder = Path(os.environ.get("SMS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def stores(live_server, country_a, settings, tmp_path):
    with custody_stores(live_server, country_a, settings, tmp_path, items=ITEMS) as made:
        yield made


@contextmanager
def custody_stores(live_server, country_a, settings, tmp_path, *, items, languages=()):
    """Two new stores of country A, ``items`` bags registered at the first
    through the service, a store manager of each (English), the same two in
    each of ``languages``; all removed at the end."""
    from django.contrib.sessions.models import Session

    from stock import services
    from stock.models import ItemCategory, ItemNumberSerial, ItemType, MarkSerial
    from tests.factories import SiteFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    suffix = uuid.uuid4().hex[:6]
    with schema_context(country_a.schema_name):
        counters = {
            model: dict(model.objects.values_list("pk", "last_serial"))
            for model in (ItemNumberSerial, MarkSerial)
        }
        sessions_before = set(Session.objects.values_list("session_key", flat=True))
        site = SiteFactory(code=f"north-{suffix}", name=f"North store {suffix}")
        other = SiteFactory(code=f"central-{suffix}", name=f"Central strongroom {suffix}")
        category = ItemCategory.objects.create(
            code=f"pangolin-{suffix}",
            kind="pangolin",
            labels={"en": "Pangolin", "fr": "Pangolin", "pt": "Pangolim"},
        )
        item_type = ItemType.objects.create(
            category=category,
            code=f"scales-{suffix}",
            labels={"en": "Scales (bag)", "fr": "Écailles (sac)", "pt": "Escamas (saco)"},
            counting="single",
        )
        other_type = ItemType.objects.create(
            category=category,
            code=f"claws-{suffix}",
            labels={"en": "Claws", "fr": "Griffes", "pt": "Garras"},
            counting="single",
        )
        manager = make_user(role=STORE_MANAGER, sites=[site], username=f"north-{suffix}")
        receiver = make_user(role=STORE_MANAGER, sites=[other], username=f"central-{suffix}")
        speakers = {
            language: (
                make_user(
                    role=STORE_MANAGER,
                    sites=[site],
                    username=f"north-{language}-{suffix}",
                    language=language,
                ),
                make_user(
                    role=STORE_MANAGER,
                    sites=[other],
                    username=f"central-{language}-{suffix}",
                    language=language,
                ),
            )
            for language in languages
        }
        for n in range(items):
            services.item_register(
                actor=manager,
                site=site,
                item_type=item_type,
                data={"weight_kg": f"{2 + n * 0.125:.3f}", "source": "seizure"},
            )
        from stock.models import StockItem

        numbers = list(
            StockItem.objects.filter(site=site)
            .order_by("sms_number")
            .values_list("sms_number", flat=True)
        )
    url = f"http://{country_a.host}:{live_server.url.rsplit(':', 1)[1]}"
    try:
        yield Stores(url, site, other, manager, receiver, numbers, speakers, other_type)
    finally:
        _remove(country_a, [site, other], [manager, receiver, *sum(speakers.values(), ())])
        with database_owner(), schema_context(country_a.schema_name):
            for model, before in counters.items():
                model.objects.exclude(pk__in=before).delete()
                for pk, last_serial in before.items():
                    model.objects.filter(pk=pk).update(last_serial=last_serial)
            Session.objects.exclude(session_key__in=sessions_before).delete()
            item_type.delete()
            other_type.delete()
            category.delete()
            site.delete()
            other.delete()


def _remove(country_a, sites, users):
    """What the walk made at ``sites`` (the ledger entries stay), and ``users``."""
    from custody.models import (
        Discrepancy,
        StockTake,
        StockTakeLine,
        Transfer,
        TransferItem,
    )
    from stock.models import ItemChange, StockItem, StockTotal

    with (
        database_owner(),
        schema_context(country_a.schema_name),
        pgtrigger.ignore(
            "stock.StockItem:stockitem_no_delete",
            "custody.Discrepancy:discrepancy_no_delete",
            "custody.TransferItem:transferitem_no_delete",
            "custody.Transfer:transfer_no_delete",
            "custody.StockTakeLine:stocktakeline_no_delete",
            "custody.StockTake:stocktake_no_delete",
            "stock.ItemChange:itemchange_no_delete",
        ),
    ):
        Discrepancy.objects.filter(transfer__origin__in=sites).delete()
        TransferItem.objects.filter(transfer__origin__in=sites).delete()
        Transfer.objects.filter(origin__in=sites).delete()
        StockTakeLine.objects.filter(stocktake__site__in=sites).delete()
        StockTake.objects.filter(site__in=sites).delete()
        StockTotal.objects.filter(site__in=sites).delete()
        ItemChange.objects.filter(item__site__in=sites).delete()
        StockItem.objects.filter(site__in=sites).delete()
        for user in users:
            _user_remove(user)


def _sign_in(browser, stores, user, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(stores.url + "/accounts/login/")
    page.get_by_label("Your username or e-mail address").fill(user.username)
    page.get_by_label("Your password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(stores.url + "/")
    return page


def _scan(page, field, number):
    """What a USB scanner does: the characters, then Enter."""
    field.fill("")
    field.type(number, delay=0)
    field.press("Enter")


def test_stock_take_by_scanning_then_sign_off(browser, stores, tmp_path):
    shots = _shots(tmp_path)
    page = _sign_in(browser, stores, stores.manager)
    page.goto(stores.url + "/stock-takes/")
    page.get_by_label("Store").select_option(str(stores.site.pk))
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name=re.compile("Stock-take ST-"))).to_be_visible()
    stocktake_url = page.url

    field = page.get_by_label("Scan or type an SMS number")
    expect(field).to_be_focused()
    log = page.locator("[data-scan-log] li")
    # All but the last two items, scanned one after another without leaving the page.
    for number in stores.numbers[:-2]:
        _scan(page, field, number)
    # Answered in the order scanned, one at a time.
    expect(log.first).to_have_text(f"{stores.numbers[-3]}: found.", timeout=15_000 + ITEMS * 1500)
    assert page.url == stocktake_url
    expect(page.locator("[data-count=found]").first).to_have_text(str(ITEMS - 2))
    # The same label again, and a label of no item here.
    _scan(page, field, stores.numbers[0].lower())
    expect(log.first).to_contain_text("already checked (Found")
    _scan(page, field, "XA-1999-000001")
    expect(log.first).to_contain_text("not in this stock-take")
    # The sign-off figures are stale now: the page says so and won't confirm them.
    expect(page.locator("[data-stale]")).to_be_visible()
    page.screenshot(path=shots / "stocktake-scanning-1366.png", full_page=True)

    # Tick one of the two left and record it missing; the last one stays unchecked.
    page.reload()
    page.get_by_role("link", name=re.compile("Not checked yet")).click()
    rows = page.locator("#items table.grid tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_role("checkbox", name=stores.numbers[-2]).check()
    page.get_by_label("Record the ticked items as").select_option("missing")
    page.get_by_role("button", name="Record the ticked items").click()
    expect(page.locator(".messages")).to_contain_text("1 item recorded: Missing.")

    # One found item re-weighed and found damaged, on the line's own page.
    page.goto(stocktake_url + "?show=found")
    page.locator(f"tr[data-number='{stores.numbers[0]}']").get_by_role(
        "link", name="Weigh, note, photo…"
    ).click()
    page.get_by_label("Result").select_option("damaged")
    page.get_by_label("Weight (kg)").fill("1,950")
    page.get_by_label("Note").fill("Bag torn")
    page.screenshot(path=shots / "stocktake-line-1366.png", full_page=True)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text(
        f"{stores.numbers[0]} recorded: Found damaged."
    )
    expect(page.locator("h3", has_text="Weight differences")).to_be_visible()

    preview = page.locator("#sign-off-preview")
    expect(preview).to_contain_text("Signing off records 2 items")
    expect(preview).to_contain_text("Scales (bag)")
    page.screenshot(path=shots / "stocktake-sign-off-1366.png", full_page=True)
    page.get_by_role("button", name="Sign off the stock-take").click()
    # The browser refuses the form without the tick (required), the server too.
    assert "signed off" not in page.locator("h1").inner_text().lower()
    page.get_by_label("Record 2 items as missing").check()
    page.get_by_role("button", name="Sign off the stock-take").click()
    expect(page.locator(".messages")).to_contain_text("Stock-take signed off.")
    expect(page.locator("h1 .badge")).to_have_text("Signed off")

    phone = _sign_in(browser, stores, stores.manager, viewport=PHONE)
    phone.goto(stocktake_url)
    phone.screenshot(path=shots / "stocktake-signed-390.png", full_page=True)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone: {width}px"
    # In French.
    with phone.expect_navigation():
        phone.locator("select[name=language]").select_option("fr")
    expect(phone.locator("#items h2")).to_have_text("Articles")
    expect(phone.get_by_role("link", name=re.compile("Pas encore vérifié"))).to_be_visible()
    phone.screenshot(path=shots / "stocktake-signed-fr-390.png", full_page=True)


def test_transfer_with_select_all_and_receive_all(browser, stores, tmp_path):
    shots = _shots(tmp_path)
    page = _sign_in(browser, stores, stores.manager)
    page.goto(stores.url + f"/transfers/new/?origin={stores.site.pk}")
    page.get_by_label("To").select_option(str(stores.other.pk))
    page.get_by_label("Reason").fill("Consolidation in the central strongroom")
    page.get_by_label("Authority reference").fill("MIN/2026/31")
    chosen = page.locator("[data-picker-chosen]")
    shown = page.locator("[data-picker-shown]")
    select_all = page.get_by_label("Select all shown")
    expect(shown).to_have_text(str(ITEMS))
    select_all.check()
    expect(chosen).to_contain_text(f"{ITEMS} items chosen")
    select_all.uncheck()
    expect(chosen).to_contain_text("0 items chosen")
    # Filtered to one number, "select all shown" ticks just that one.
    page.get_by_label("Find").fill(stores.numbers[0])
    expect(shown).to_have_text("1")
    select_all.check()
    page.get_by_label("Find").fill("")
    expect(shown).to_have_text(str(ITEMS))
    expect(chosen).to_contain_text("1 item chosen")
    # The others by scanning their labels; the first again is said to be chosen already.
    scan = page.get_by_label("Scan or type an SMS number: it is ticked")
    for number in stores.numbers[1:]:
        _scan(page, scan, number)
    _scan(page, scan, stores.numbers[0])
    expect(page.locator("[data-picker] [data-scan-log] li").first).to_contain_text("already chosen")
    _scan(page, scan, "XA-1999-000001")
    expect(page.locator("[data-picker] [data-scan-log] li").first).to_contain_text(
        "not in stock at this store"
    )
    expect(chosen).to_contain_text(f"{ITEMS} items chosen")
    page.screenshot(path=shots / "transfer-picker-1366.png", full_page=True)
    page.get_by_role("button", name="Prepare the transfer").click()
    expect(page.locator(".messages")).to_contain_text("prepared")
    expect(page.locator("#lines h2")).to_contain_text(f"({ITEMS})")
    page.get_by_label("Seal numbers").fill("S-88, S-89")
    page.get_by_label("Courier").fill("Ranger patrol 3")
    page.get_by_label("Dispatching officer").fill("Officer Achieng")
    page.get_by_role("button", name="Dispatch now").click()
    expect(page.locator("h1 .badge")).to_have_text("Dispatched")
    transfer_url = page.url

    receiving = _sign_in(browser, stores, stores.receiver)
    receiving.goto(transfer_url)
    # Only the exceptions: one missing; one scanned; the rest arrived as dispatched.
    missing = stores.numbers[3]
    receiving.locator(f"tr[data-number='{missing}'] select").select_option("absent")
    scan = receiving.get_by_label("Scan or type an SMS number: it is marked Arrived")
    _scan(receiving, scan, stores.numbers[0])
    expect(receiving.locator("#receive [data-scan-log] li").first).to_contain_text("Arrived")
    receiving.get_by_label(re.compile("All arrived as dispatched")).check()
    receiving.screenshot(path=shots / "transfer-receive-1366.png", full_page=True)
    receiving.get_by_role("button", name="Record the receipt").click()
    expect(receiving.locator(".messages")).to_contain_text("Receipt recorded.")
    expect(receiving.locator("h1 .badge")).to_have_text("Partially received")
    facts = receiving.locator("dl.facts")
    expect(facts).to_contain_text(f"{stores.receiver.display_name}, ")
    expect(facts).to_contain_text(f"({ITEMS - 1} items)")
    # Each line links to its item.
    receiving.get_by_role("link", name=stores.numbers[0]).click()
    expect(receiving.locator("h1")).to_contain_text(stores.numbers[0])

    # The sender can still open what they sent: read-only, where it is now.
    page.goto(transfer_url)
    page.get_by_role("link", name=stores.numbers[0]).click()
    expect(page.locator("#sent-away")).to_contain_text(stores.other.name)
    page.screenshot(path=shots / "item-sent-away-1366.png", full_page=True)

    phone = _sign_in(browser, stores, stores.receiver, viewport=PHONE)
    phone.goto(transfer_url)
    phone.screenshot(path=shots / "transfer-received-390.png", full_page=True)
    # The receiving page in French, on a second transfer's receipt form: the same page.
    with page.expect_navigation():
        page.locator("select[name=language]").select_option("fr")
    page.goto(transfer_url)
    page.screenshot(path=shots / "transfer-fr-1366.png", full_page=True)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone: {width}px"
