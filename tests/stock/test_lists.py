# ruff: noqa: F811 (the fixtures imported from test_views are parameters here)
"""The item list people work with (issue 15 item 5): result counts, sorting
with keyset paging, thumbnails, the wider search, and the export of exactly
the filtered list — each from the wrong side of the store wall too."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from accounts.roles import AUDITOR
from audit.models import AccessEvent
from stock import filters as stock_filters
from stock import listing
from tests.factories import make_user
from tests.stock.test_views import (  # noqa: F401 (fixtures)
    items,
    jpeg_upload,
    login,
    media,
    register,
    stock_setup,
    text,
)

pytestmark = pytest.mark.django_db


def numbers(response) -> list[str]:
    return [item.sms_number for item in response.context["items"]]


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(body)))


# --- Counts ---------------------------------------------------------------------------


def test_count_of_the_unfiltered_list_is_the_scope_s_from_the_totals(login, stock_setup, items):
    s = stock_setup
    response = login(s["hq"]).get("/items/")
    assert response.context["result_count"] == listing.ResultCount(3)
    assert "3 items" in text(response)
    response = login(s["manager_x"]).get("/items/")
    assert response.context["result_count"] == listing.ResultCount(2)
    # A store of someone else's, asked for by its id: nothing, and no count of it.
    response = login(s["manager_x"]).get("/items/", {"site": s["site_y"].pk})
    assert response.context["result_count"] is None
    assert numbers(response) == []


def test_count_of_a_search_is_exact_under_the_cap_and_more_than_above(
    login, stock_setup, items, monkeypatch
):
    s = stock_setup
    client = login(s["hq"])
    response = client.get("/items/", {"q": "Xanadu"})
    assert response.context["result_count"] == listing.ResultCount(2)
    monkeypatch.setattr(listing, "COUNT_CAP", 1)
    response = client.get("/items/", {"q": "Xanadu"})
    assert response.context["result_count"] == listing.ResultCount(1, more=True)
    assert "More than 1 items" in text(response)
    # Filters the totals answer are never capped.
    response = client.get("/items/", {"site": s["site_x"].pk, "status": "in_stock"})
    assert response.context["result_count"] == listing.ResultCount(2)


def test_count_uses_thousands_separators(login, stock_setup, items, monkeypatch):
    monkeypatch.setattr(
        listing, "result_count", lambda **kwargs: listing.ResultCount(12400, more=False)
    )
    assert "12,400 items" in text(login(stock_setup["hq"]).get("/items/"))


# --- Sorting --------------------------------------------------------------------------


def test_sort_by_weight_and_number_both_ways(login, stock_setup, items):
    client = login(stock_setup["hq"])
    heaviest = numbers(client.get("/items/", {"sort": "-weight"}))
    assert heaviest == [items[k].sms_number for k in ("x_scales", "x_tusk", "y_tusk")]
    assert numbers(client.get("/items/", {"sort": "weight"})) == heaviest[::-1]
    by_number = sorted(item.sms_number for item in items.values())
    assert numbers(client.get("/items/", {"sort": "number"})) == by_number
    assert numbers(client.get("/items/", {"sort": "-number"})) == by_number[::-1]
    # An unknown sort is the default one, not an error.
    assert client.get("/items/", {"sort": "store; drop"}).status_code == 200


def test_sorted_list_pages_without_losing_or_repeating_items(login, stock_setup, media):
    s = stock_setup
    made = [
        register(
            actor=s["manager_x"],
            site=s["site_x"],
            item_type=s["scales"],
            weight=str(Decimal("1.000") + i % 7),  # equal weights: the number breaks ties
        )
        for i in range(53)
    ]
    client = login(s["hq"])
    first = client.get("/items/", {"sort": "-weight"})
    assert len(first.context["items"]) == 50
    cursor = first.context["next_cursor"]
    second = client.get("/items/", {"sort": "-weight", "after": cursor})
    seen = numbers(first) + numbers(second)
    assert len(seen) == 53 and set(seen) == {i.sms_number for i in made}
    weights = [i.weight_kg for i in first.context["items"]] + [
        i.weight_kg for i in second.context["items"]
    ]
    assert weights == sorted(weights, reverse=True)
    # The "next" link keeps the sort.
    next_link = text(first).split('rel="next" href="')[1].split('"')[0]
    assert "sort=-weight" in next_link and "after=" in next_link


# --- Search and thumbnails --------------------------------------------------------------


@pytest.mark.parametrize("plan", ["ids", "one_or"])
def test_search_finds_species_store_type_case_and_exhibit(
    login, stock_setup, media, monkeypatch, plan
):
    # Both plans of stock.filters.search: the matching ids looked up column by
    # column, and (past SEARCH_IDS_MAX matches) the prefix tests as one OR.
    if plan == "one_or":
        monkeypatch.setattr(stock_filters, "SEARCH_IDS_MAX", 0)
    s = stock_setup
    tusk = register(
        actor=s["manager_x"],
        site=s["site_x"],
        item_type=s["tusk"],
        species="Loxodonta africana",
        case_reference="CR-77/2026",
        exhibit_reference="EXH-0042",
    )
    scales = register(actor=s["manager_y"], site=s["site_y"], item_type=s["scales"])
    client = login(s["hq"])
    for q in ("loxodonta", "cr-77", "exh-00", "Xanadu", "store-x"):
        assert numbers(client.get("/items/", {"q": q})) == [tusk.sms_number], q
    assert numbers(client.get("/items/", {"q": "scales"})) == [scales.sms_number]
    # A type by its label in another language too.
    assert numbers(client.get("/items/", {"q": "écailles"})) == [scales.sms_number]
    # The store manager of X never finds Y's items, whatever the words.
    assert numbers(login(s["manager_x"]).get("/items/", {"q": "Yonder"})) == []


def test_list_shows_thumbnails_of_items_with_photos(login, stock_setup, items):
    response = login(stock_setup["hq"]).get("/items/")
    by_number = {item.sms_number: item for item in response.context["items"]}
    photo = items["x_tusk"].photos.get()
    assert by_number[items["x_tusk"].sms_number].thumbnail_id == photo.pk
    assert by_number[items["x_scales"].sms_number].thumbnail_id is None
    assert f"/photos/{photo.pk}/thumbnail/" in text(response)


# --- Export ---------------------------------------------------------------------------


def test_csv_export_is_exactly_the_filtered_list_and_is_logged(login, stock_setup, items):
    s = stock_setup
    client = login(s["hq"])
    response = client.get("/items/export.csv", {"item_type": s["tusk"].pk, "sort": "-weight"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="items-')
    header, *rows = csv_rows(response)
    assert header[0] == "SMS number"
    assert [r[0] for r in rows] == [items["x_tusk"].sms_number, items["y_tusk"].sms_number]
    assert rows[0][6] == "12.345"  # a plain number, not "12,345"
    event = AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT).latest("id")
    assert event.user == s["hq"]
    assert event.details["item_type"] == s["tusk"].pk
    assert event.details["format"] == "csv" and event.details["list"] == "items"


def test_export_of_a_store_manager_holds_only_their_store(login, stock_setup, items):
    s = stock_setup
    client = login(s["manager_x"])
    _header, *rows = csv_rows(client.get("/items/export.csv"))
    assert {r[0] for r in rows} == {items["x_tusk"].sms_number, items["x_scales"].sms_number}
    # The other store asked for by its id: an empty export, not that store's items.
    _header, *rows = csv_rows(client.get("/items/export.csv", {"site": s["site_y"].pk}))
    assert rows == []
    # The XLSX says the same.
    response = client.get("/items/export.xlsx", {"site": s["site_y"].pk})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.max_row == 1


def test_xlsx_export_types_its_cells_and_neutralises_formulas(login, stock_setup, media):
    s = stock_setup
    item = register(
        actor=s["manager_x"],
        site=s["site_x"],
        item_type=s["tusk"],
        case_reference='=HYPERLINK("http://evil.example","x")',
    )
    response = login(s["hq"]).get("/items/export.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header = [c.value for c in sheet[1]]
    row = [c.value for c in sheet[2]]
    assert row[0] == item.sms_number
    assert row[header.index("Weight (kg)")] == pytest.approx(12.345)
    assert row[header.index("Case reference")].startswith("'=HYPERLINK")
    _header, *rows = csv_rows(login(s["hq"]).get("/items/export.csv"))
    assert rows[0][header.index("Case reference")].startswith("'=HYPERLINK")


def test_export_needs_the_permission_to_see_items(client, stock_setup, items, host_a):
    nobody = make_user(role=None, all_sites=True, username="nobody")
    client.force_login(nobody)
    client.defaults["HTTP_HOST"] = host_a
    assert client.get("/items/export.csv").status_code == 403
    auditor = make_user(role=AUDITOR, sites=[stock_setup["site_y"]], username="auditor-y")
    client.force_login(auditor)
    _header, *rows = csv_rows(client.get("/items/export.csv"))
    assert [r[0] for r in rows] == [items["y_tusk"].sms_number]


def test_phone_cards_name_every_cell(login, stock_setup, items):
    html = text(login(stock_setup["hq"]).get("/items/"))
    assert 'class="grid list-cards with-thumbs"' in html
    for label in ("CITES mark", "Type", "Store", "Weight", "Pieces", "Status", "Received on"):
        assert f'data-label="{label}"' in html
