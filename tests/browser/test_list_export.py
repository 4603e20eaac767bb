"""The item list filtered in a real Chromium, then downloaded as CSV and as
XLSX from its "Download this list" links (issue 15 item 11): each file holds
exactly the rows the filter shows — not the other items of the store, not the
items of a store outside the manager's scope that match the same filter — and
each download is in the access log with its filter and format.

Setup and clean-up are test_custody_flows' (a committed store of 14 items).
"""

import csv
import io

import pytest
from django_tenants.utils import schema_context
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.test_custody_flows import PHONE, _sign_in, stores  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _register(actor, site, item_type, weights, source):
    from stock import services

    return [
        services.item_register(
            actor=actor,
            site=site,
            item_type=item_type,
            data={"weight_kg": weight, "source": source},
        ).sms_number
        for weight in weights
    ]


def _downloaded(page, name):
    with page.expect_download() as info:
        page.locator(".export-links").get_by_role("link", name=name, exact=True).click()
    download = info.value
    return download.suggested_filename, download.path().read_bytes()


def test_filtered_item_list_exports_exactly_its_rows_and_is_logged(
    browser,
    stores,  # noqa: F811
    tmp_path,
):
    from audit.models import AccessEvent
    from stock.models import StockItem

    with schema_context("xa"):
        item_type = StockItem.objects.filter(site=stores.site).first().item_type
        surrendered = _register(
            stores.manager, stores.site, item_type, ["3.100", "4.200", "5.300"], "surrender"
        )
        # The same filter matches items of a store outside the manager's scope.
        elsewhere = _register(stores.receiver, stores.other, item_type, ["6.400"], "surrender")
        events_before = AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT).count()

    page = _sign_in(browser, stores, stores.manager)
    page.goto(stores.url + "/items/")
    expect(page.locator(".result-count")).to_contain_text(f"{len(stores.numbers) + 3} items")
    page.locator("form.filters summary").click()  # "More filters"
    page.locator("select[name=source]").select_option("surrender")
    page.locator("form.filters details button[type=submit]").click()
    page.wait_for_url("**/items/?*source=surrender*")
    expect(page.locator(".result-count")).to_contain_text("3 items")
    page.screenshot(path=tmp_path / "item-list-filtered.png", full_page=True)

    name, content = _downloaded(page, "CSV")
    assert name.startswith("items-") and name.endswith(".csv")
    header, *rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert header[0] == "SMS number"
    assert sorted(row[0] for row in rows) == sorted(surrendered)
    assert not set(elsewhere) & {row[0] for row in rows}

    name, content = _downloaded(page, "XLSX")
    assert name.startswith("items-") and name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[0] == "SMS number"
    assert sorted(row[0] for row in rows) == sorted(surrendered)

    with schema_context("xa"):
        events = list(
            AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT).order_by("id")[
                events_before:
            ]
        )
    assert [(e.user_id, e.details["format"], e.details["source"]) for e in events] == [
        (stores.manager.pk, "csv", "surrender"),
        (stores.manager.pk, "xlsx", "surrender"),
    ]
    assert all(e.details["list"] == "items" for e in events)
    page.context.close()

    # At phone width the same list and its export links are there.
    page = _sign_in(browser, stores, stores.manager, viewport=PHONE)
    page.goto(stores.url + "/items/?source=surrender")
    expect(page.locator(".result-count")).to_contain_text("3 items")
    expect(
        page.locator(".export-links").get_by_role("link", name="CSV", exact=True)
    ).to_be_visible()
    page.screenshot(path=tmp_path / "item-list-filtered-phone.png", full_page=True)
    page.context.close()
