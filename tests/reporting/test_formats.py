"""Reports as the country writes them: years as years, counts grouped, the
detailed report in pages (issue 15 items 3 and 5)."""

import pytest
from django.urls import reverse
from django.utils import translation

from reporting import exports, views
from reporting.documents import INT, YEAR
from tests.reporting.test_views import as_user  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_year_by_year_report_writes_years_as_years(history, as_user):  # noqa: F811
    client = as_user(history.reg.hq)
    response = client.get(
        reverse("reporting:report", args=["yearly"]), {"first_year": 2024, "last_year": 2026}
    )
    html = response.content.decode()
    assert ">2024<" in html and ">2026<" in html
    assert "2,024" not in html and "2,026" not in html
    client.cookies["django_language"] = "fr"
    html = client.get(
        reverse("reporting:report", args=["yearly"]), {"first_year": 2024, "last_year": 2026}
    ).content.decode()
    assert "2\xa0024" not in html and "2 024" not in html


def test_pdf_cells_group_counts_but_not_years():
    with translation.override("fr"):
        assert exports._pdf_cell(2026, YEAR) == "2026"
        assert exports._pdf_cell(12400, INT) == "12\xa0400"
    assert exports.NUMBER_FORMATS[YEAR] == "0"


def test_detailed_report_pages_keep_the_total_under_each_page():
    lines = [([f"XA-{i}"], "", False) for i in range(250)] + [(["Total"], "", True)]
    (table, shown), page = views._detail_page(("table", lines), "2")
    assert table == "table"
    assert [r[0][0] for r in shown[:2]] == ["XA-100", "XA-101"]
    assert len(shown) == views.DETAIL_PAGE_ROWS + 1 and shown[-1][2]
    assert (page["number"], page["count"], page["first"], page["last"]) == (2, 3, 101, 200)
    assert page["previous"] == 1 and page["next"] == 3
    # A page out of range, or not a number, is the nearest one.
    assert views._detail_page(("t", lines), "99")[1]["number"] == 3
    assert views._detail_page(("t", lines), "x")[1]["number"] == 1


def test_detailed_report_page_links_keep_the_filters(history, as_user, monkeypatch):  # noqa: F811
    monkeypatch.setattr(views, "DETAIL_PAGE_ROWS", 1)
    client = as_user(history.reg.hq)
    response = client.get(
        reverse("reporting:report", args=["detail"]),
        {"start": "2024-01-01", "end": "2026-12-31", "line": "closing"},
    )
    html = response.content.decode()
    page = response.context["detail_page"]
    assert page["count"] >= 2 and len(response.context["tables"][0][1]) == 2  # a line + total
    next_link = html.split('rel="next" href="')[1].split('"')[0]
    assert "page=2" in next_link and "line=closing" in next_link
