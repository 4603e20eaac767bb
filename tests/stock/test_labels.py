# ruff: noqa: F811  (the fixtures imported from tests.stock.test_views are parameters here)
"""Labels (stock.labels): one item's label or a sheet of them, from the item
page and the item list, with a QR code that encodes exactly the SMS number;
the walls (another store, another country) and the access log."""

import io

import pytest
import segno
from django.urls import reverse
from django_tenants.utils import schema_context
from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from accounts.roles import HQ_OFFICER
from audit.models import AccessEvent
from stock import labels, selectors
from tests.factories import make_user
from tests.stock.test_views import (  # noqa: F401
    items,
    jpeg_upload,
    login,
    media,
    register,
    stock_setup,
)

pytestmark = pytest.mark.django_db


def pdf_text(response) -> str:
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/pdf"
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def pages(response) -> list:
    return PdfReader(io.BytesIO(response.content)).pages


# --- What a label says -----------------------------------------------------------------


def test_item_label_carries_number_mark_type_weight_and_store(login, stock_setup, items):
    item = items["x_tusk"]
    text = pdf_text(login(stock_setup["manager_x"]).get(f"/items/{item.pk}/label.pdf"))
    for expected in (item.sms_number, item.cites_mark, "Ivory — Whole tusk", "12.345 kg"):
        assert expected in text
    assert "Xanadu strongroom" in text


def test_a_lot_label_says_pieces_and_bags_in_the_users_language(login, stock_setup, items):
    manager = stock_setup["manager_x"]
    manager.language = "fr"
    manager.save(update_fields=["language"])
    item = items["x_scales"]
    client = login(manager)
    text = pdf_text(client.get(f"/items/{item.pk}/label.pdf", HTTP_ACCEPT_LANGUAGE="fr"))
    # French numbers (decimal comma) and words; no mark for a lot of scales.
    assert "40,000 kg" in text
    assert "300 pièces" in text and "2 sacs" in text
    assert "Écailles" in text
    assert "sans marque CITES" in text


@pytest.mark.parametrize("key", sorted(labels.FORMATS))
def test_every_format_lays_its_labels_on_the_page(key):
    fmt = labels.FORMATS[key]
    page_width, page_height = fmt.page
    # Every label inside the page, none overlapping the next.
    assert fmt.left + (fmt.columns - 1) * fmt.pitch_x + fmt.width <= page_width + 0.01
    assert fmt.top + (fmt.rows - 1) * fmt.pitch_y + fmt.height <= page_height + 0.01
    if fmt.columns > 1:
        assert fmt.pitch_x >= fmt.width
    if fmt.rows > 1:
        assert fmt.pitch_y >= fmt.height


def test_a_sheet_holds_its_count_and_a_roll_one_label_a_page(login, stock_setup, media):
    s = stock_setup
    for _n in range(22):
        register(actor=s["manager_x"], site=s["site_x"], item_type=s["scales"])
    client = login(s["manager_x"])
    params = {"which": "list", "site": s["site_x"].pk}
    sheet = client.get("/items/labels.pdf", {**params, "label_format": "a4-3x7"})
    assert len(pages(sheet)) == 2  # 21 labels a sheet
    roll = client.get("/items/labels.pdf", {**params, "label_format": "roll-62x29"})
    assert len(pages(roll)) == 22
    width = float(pages(roll)[0].mediabox.width)
    assert round(width / 72 * 25.4) == 62


def test_the_code_encodes_exactly_the_sms_number():
    number = "XA-2026-000123"
    expected = [
        [bool(cell) for cell in row]
        for row in segno.make_qr(number, error="m", boost_error=False).matrix_iter(
            border=labels.QR_BORDER
        )
    ]
    assert labels.qr_matrix(number) == expected
    # Not a URL, not the number with a prefix: a scanner types the number.
    assert labels.qr_matrix(number) != labels.qr_matrix(f"SMS:{number}")


def test_long_marks_and_types_shrink_and_no_word_is_broken():
    width = 30 * 2.83465  # 30 mm
    mark = "XA/2026/IV/000123/123456.789kg/EXTRA/LONG/MARK"
    size = labels.fitted_size(mark, labels.BOLD, width=width, largest=10)
    assert size < 10 and stringWidth(mark, labels.BOLD, size) <= width
    kind = "Ivoire — Morceaux travaillés, bijoux et objets sculptés de toutes sortes"
    lines, size = labels.fit_lines(
        kind, labels.REGULAR, width=width, largest=10, at=(labels.KIND_SEPARATOR, " ")
    )
    assert len(lines) == 2
    assert " — ".join(lines) == kind or " ".join(lines) == kind  # only at a separator
    assert all(stringWidth(line, labels.REGULAR, size) <= width for line in lines)
    # A number's thousands separator (a non-breaking space) is never a break.
    weight = "1\u00a0234,500 kg · 12\u00a0000 pièces · 14 sacs"
    lines, _size = labels.fit_lines(weight, labels.REGULAR, width=width, largest=10, at=(" · ",))
    assert all("1\u00a0234,500" in line or "1\u00a0234" not in line for line in lines)


# --- From the item list: ticked items or the filtered list --------------------------------


def test_ticked_items_of_another_store_are_left_out(login, stock_setup, items):
    client = login(stock_setup["manager_x"])
    ids = [items["x_tusk"].pk, items["y_tusk"].pk]
    text = pdf_text(client.get("/items/labels.pdf", {"which": "ticked", "item": ids}))
    assert items["x_tusk"].sms_number in text
    assert items["y_tusk"].sms_number not in text
    assert "Yonder warehouse" not in text
    # Only another store's item ticked: nothing to print, and nothing said about it.
    response = client.get("/items/labels.pdf", {"which": "ticked", "item": items["y_tusk"].pk})
    assert response.status_code == 302


def test_the_filtered_list_gives_its_own_labels_only(login, stock_setup, items):
    s = stock_setup
    client = login(s["manager_x"])
    text = pdf_text(client.get("/items/labels.pdf", {"which": "list", "item_type": s["tusk"].pk}))
    assert items["x_tusk"].sms_number in text
    assert items["x_scales"].sms_number not in text  # filtered out
    assert items["y_tusk"].sms_number not in text  # another store
    # Asking for the other store by its filter shows nothing of it either.
    response = client.get("/items/labels.pdf", {"which": "list", "site": s["site_y"].pk})
    assert response.status_code == 302


def test_too_many_labels_are_refused_with_a_sentence(login, stock_setup, items, monkeypatch):
    monkeypatch.setattr(selectors, "LABELS_LIMIT", 1)
    client = login(stock_setup["hq"])
    response = client.get("/items/labels.pdf", {"which": "list"}, follow=True)
    assert response.redirect_chain and response.redirect_chain[0][0].startswith("/items/")
    assert "at most 1 items at once" in response.content.decode()


def test_the_list_offers_labels_and_keeps_its_filters(login, stock_setup, items):
    s = stock_setup
    page = login(s["manager_x"]).get("/items/", {"item_type": s["tusk"].pk, "after": "x"})
    html = page.content.decode()
    assert 'action="/items/labels.pdf"' in html
    assert f'name="item_type" value="{s["tusk"].pk}"' in html
    assert 'name="after"' not in html  # paging is not a filter
    assert f'name="item" value="{items["x_tusk"].pk}" form="labels-form"' in html


def test_the_item_page_offers_the_label(login, stock_setup, items):
    item = items["x_tusk"]
    html = login(stock_setup["hq"]).get(f"/items/{item.pk}/").content.decode()
    assert reverse("stock:item_label", args=[item.pk]) in html
    assert "roll-62x29" in html and "letter-3x10" in html


# --- Walls and the access log --------------------------------------------------------------


def test_another_stores_item_label_is_404(login, stock_setup, items):
    client = login(stock_setup["manager_x"])
    assert client.get(f"/items/{items['y_tusk'].pk}/label.pdf").status_code == 404


def test_another_countrys_host_never_gives_the_label(client, stock_setup, items, country_b, host_b):
    item = items["x_tusk"]
    with schema_context(country_b.schema_name):
        client.force_login(make_user(role=HQ_OFFICER, all_sites=True, username="b-hq"))
    assert client.get(f"/items/{item.pk}/label.pdf", HTTP_HOST=host_b).status_code == 404
    response = client.get(
        "/items/labels.pdf", {"which": "ticked", "item": item.pk}, HTTP_HOST=host_b
    )
    assert response.status_code == 302  # nothing of country A to print


def test_label_downloads_are_in_the_access_log(login, stock_setup, items, country_a):
    client = login(stock_setup["manager_x"])
    item = items["x_tusk"]
    client.get(f"/items/{item.pk}/label.pdf", {"label_format": "roll-100x50"})
    client.get("/items/labels.pdf", {"which": "list", "item_type": stock_setup["tusk"].pk})
    with schema_context(country_a.schema_name):
        one, sheet = AccessEvent.objects.filter(action=AccessEvent.Action.DOCUMENT_VIEW).order_by(
            "id"
        )
    assert one.object_repr == item.sms_number
    assert one.details["document"] == "label" and one.details["label_format"] == "roll-100x50"
    assert sheet.details["document"] == "labels" and sheet.details["count"] == 1
    assert sheet.details["item_type"] == stock_setup["tusk"].pk


def test_the_drawn_rectangles_cover_exactly_the_dark_modules():
    matrix = labels.qr_matrix("XA-2026-000123")
    covered = [[False] * len(row) for row in matrix]
    for column, row, width, height in labels.qr_rectangles(matrix):
        for r in range(row, row + height):
            for c in range(column, column + width):
                assert not covered[r][c]  # no overlap
                covered[r][c] = True
    assert covered == matrix
