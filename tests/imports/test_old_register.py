"""The check issue 16 announces: a spreadsheet laid out as an old national
register (not the template) imported through the pages' mapping step, the
same file a second time, then the dashboard's totals and the CITES
declarations' figures compared with totals this test computes from the
spreadsheet itself — read back with openpyxl and summed by hand, with none of
the project's parsing, mapping or reporting code."""

import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from imports.models import ImportRun
from reporting import cites
from reporting.figures import Scope
from stock.models import StockItem
from stock.selectors import dashboard_totals

from .conftest import named

pytestmark = pytest.mark.django_db

# The old register's own layout: another order than the template's, French
# headers, headers SMS does not know ("Désignation", "Tusk No."), a column
# with no field ("Observations", kept in the notes) and a running number
# left out.
HEADERS = [
    "N° d'ordre",
    "Date de réception",
    "Magasin",
    "Désignation",
    "Tusk No.",
    "Poids (kg)",
    "Pièces",
    "Sacs",
    "Provenance",
    "Observations",
    "Motif d'archivage",
    "Archivé le",
    "Référence de l'autorisation",
    "Méthode de destruction",
    "Témoins",
]
D = datetime.date
BURN = ["Détruit", D(2016, 4, 30), "Arrêté 12/2016", "Incinération", "A. Mbeki; J. Otieno"]
ROT = ["Détérioré", "02/11/2015", "Note 7/2015", None, None]
NOT_ARCHIVED = [None] * 5
# [received, store as written, type, mark, weight as written, pieces, bags,
#  source, remarks] + archive columns. Weights with a decimal comma (text)
# or a number; dates as date cells or DD/MM/YYYY text; marks of 2014-2015.
ROWS = [
    [D(2015, 1, 12), "Armurerie centrale", "whole-tusk", "XA 15/201/23", "23,4", 1, None]
    + ["Saisie", "pointe cassée", *NOT_ARCHIVED],
    ["03/02/2015", "Armurerie centrale", "whole-tusk", "XA 15/202/18", "17,9", 1, None]
    + ["Saisie", None, *NOT_ARCHIVED],
    [D(2015, 6, 1), "STORE X", "whole-tusk", "XA 15/203/31", 31, 1, None]
    + ["Mort naturelle", None, *NOT_ARCHIVED],
    [D(2014, 9, 9), "Store Y", "whole-tusk", "XA 14/77/12", "11,6", 1, None]
    + ["Saisie", "ancien stock", *NOT_ARCHIVED],
    [D(2015, 8, 20), "Store Y", "whole-tusk", "XA 15/204/9", "9,2", 1, None]
    + ["Saisie", None, *BURN],
    ["15/03/2016", "Armurerie centrale", "whole-tusk", "XA 16/5/14", "14,1", 1, None]
    + ["Saisie", None, *NOT_ARCHIVED],
    [D(2015, 2, 2), "Armurerie centrale", "cut-piece", None, "0,8", 1, None]
    + ["Saisie", None, *NOT_ARCHIVED],
    [D(2015, 2, 2), "Store Y", "cut-piece", None, "0,45", 1, None]
    + ["Mort naturelle", "fragment", *NOT_ARCHIVED],
    [D(2015, 5, 5), "STORE X", "cut-piece", None, "0,7", 1, None] + ["Saisie", None, *BURN],
    [D(2015, 3, 3), "Store Y", "cut-piece", None, "0,6", 1, None] + ["Saisie", None, *ROT],
    [D(2015, 4, 4), "Armurerie centrale", "scales", None, "40,5", 300, 2]
    + ["Saisie", None, *NOT_ARCHIVED],
    ["10/10/2015", "Store Y", "scales", None, "12,25", 120, 1] + ["Saisie", None, *NOT_ARCHIVED],
    [D(2016, 1, 20), "Store Y", "scales", None, 8, 60, 1] + ["Saisie", None, *NOT_ARCHIVED],
]
# What the test knows, not the project: the store each name stands for (the
# mapping step's answer for "Armurerie centrale"), the kind of each type and
# the class each ivory type is declared under.
STORE = {"armurerie centrale": "x", "store x": "x", "store y": "y"}
KIND = {"whole-tusk": "ivory", "cut-piece": "ivory", "scales": "pangolin"}
IVORY_CLASS = {"whole-tusk": "raw_whole", "cut-piece": "raw_cut"}


def register_file() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Inventaire national 2016"
    sheet.append(["République d'Alphaland — inventaire des stocks d'ivoire et d'écailles"])
    sheet.append(HEADERS)
    for number, row in enumerate(ROWS, start=1):
        sheet.append([number, *row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def sheet_rows(content: bytes) -> list[dict]:
    """The file's rows, read back with openpyxl and parsed by hand."""
    sheet = load_workbook(io.BytesIO(content), data_only=True).active
    lines = list(sheet.iter_rows(values_only=True))
    headers = list(lines[1])
    rows = []
    for line in lines[2:]:
        cells = dict(zip(headers, line, strict=True))

        def day(value):
            if isinstance(value, datetime.datetime):
                return value.date()
            if isinstance(value, datetime.date):
                return value
            d, m, y = str(value).split("/")
            return datetime.date(int(y), int(m), int(d))

        rows.append(
            {
                "received": day(cells["Date de réception"]),
                "store": STORE[cells["Magasin"].casefold()],
                "type": cells["Désignation"],
                "marked": bool(cells["Tusk No."]),
                "weight": Decimal(str(cells["Poids (kg)"]).replace(",", ".")),
                "pieces": int(cells["Pièces"]),
                "archived": day(cells["Archivé le"]) if cells["Motif d'archivage"] else None,
                "destroyed": cells["Motif d'archivage"] == "Détruit",
            }
        )
    return rows


def held_at(rows, day):
    return [
        r for r in rows if r["received"] <= day and (r["archived"] is None or r["archived"] > day)
    ]


def sums(rows):
    return (
        len(rows),
        sum(r["pieces"] for r in rows),
        sum((r["weight"] for r in rows), Decimal(0)),
    )


def measure(m):
    return (m.items, m.pieces, m.weight_kg)


@pytest.fixture
def login(client, host_a):
    def _login(user):
        client.force_login(user)
        client.defaults["HTTP_HOST"] = host_a
        return client

    return _login


def upload_and_map(client, reg, content, capture, *, answers):
    response = client.post(
        "/import/upload/", {"file": named(content, "inventaire-2016.xlsx")}, follow=False
    )
    assert response.status_code == 302
    run = ImportRun.objects.order_by("-pk").first()
    mapping_url = f"/import/{run.pk}/columns/"
    assert response["Location"] == mapping_url
    page = client.get(mapping_url)
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields}
    headers = {header: name for name, header in form.header_fields}
    stores = {label: name for name, label in form.store_fields}
    for header, target in answers.get("columns", {}).items():
        data[headers[header]] = target
    for label, site in answers.get("stores", {}).items():
        data[stores[label]] = str(site.pk)
    with capture(execute=True):
        response = client.post(mapping_url, data)  # saves the answers, runs the check
    assert response.status_code == 302
    run.refresh_from_db()
    return run, data, headers, stores


def test_an_old_national_register_through_the_mapping_step_then_the_figures(
    login, reg, django_capture_on_commit_callbacks
):
    content = register_file()
    client = login(reg.admin)
    run, data, headers, stores = upload_and_map(
        client,
        reg,
        content,
        django_capture_on_commit_callbacks,
        answers={
            "columns": {
                "Désignation": "item_type",
                "Tusk No.": "cites_mark",
                "N° d'ordre": "ignore",
            },
            "stores": {"Armurerie centrale": reg.site_x},
        },
    )
    # The header row is found under the title; French labels matched by
    # themselves, the others answered in the mapping step; "Observations"
    # has no field and stays in the notes; only the differing store asked.
    assert set(stores) == {"Armurerie centrale"}
    assert run.columns["Magasin"] == "site"
    assert run.columns["Poids (kg)"] == "weight_kg"
    assert run.columns["Date de réception"] == "received_on"
    assert run.columns["Provenance"] == "source"
    assert run.columns["Motif d'archivage"] == "archive_reason"
    assert run.columns["Observations"] == "notes_extra"
    assert run.status == ImportRun.Status.CHECKED, (run.error, run.report)
    assert (run.rows_total, run.rows_valid, run.rows_refused) == (len(ROWS), len(ROWS), 0)
    assert StockItem.objects.count() == 0  # the check saved nothing

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/import/{run.pk}/", {"action": "import"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE, (run.error, run.report)
    assert run.rows_created == len(ROWS)
    # Legacy marks kept as written, never regenerated; the free text kept.
    assert set(StockItem.objects.exclude(cites_mark=None).values_list("cites_mark", flat=True)) == {
        r[3] for r in ROWS if r[3]
    }
    assert StockItem.objects.get(cites_mark="XA 15/201/23").notes == "Observations: pointe cassée"

    # The same file again: the saved answers map it by themselves, and it
    # creates nothing and says so.
    again, _data, _headers, again_stores = upload_and_map(
        client, reg, content, django_capture_on_commit_callbacks, answers={}
    )
    assert again_stores == {}
    assert again.columns["Tusk No."] == "cites_mark"
    assert (again.rows_known, again.rows_valid) == (len(ROWS), 0)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/import/{again.pk}/", {"action": "import"})
    again.refresh_from_db()
    assert (again.status, again.rows_created) == (ImportRun.Status.DONE, 0)
    page = client.get(f"/import/{again.pk}/").content.decode()
    assert "Nothing new: every row of this file was imported already." in page
    assert StockItem.objects.count() == len(ROWS)

    rows = sheet_rows(content)
    sites = {"x": reg.site_x, "y": reg.site_y}

    # The dashboard (what the home page shows): what is in stock today.
    in_stock = [r for r in rows if r["archived"] is None]
    totals = dashboard_totals(user=reg.admin)
    assert (totals["overall"]["items"], totals["overall"]["weight_kg"]) == (
        len(in_stock),
        sum(r["weight"] for r in in_stock),
    )
    assert totals["overall"]["pieces"] == sum(r["pieces"] for r in in_stock)
    for row in totals["per_site"]:
        code = next(k for k, site in sites.items() if site.pk == row["site"].pk)
        expected = sums([r for r in in_stock if r["store"] == code])
        assert (row["items"], row["pieces"], row["weight_kg"]) == expected, code
    assert {
        row["item_type"].code: (row["items"], row["pieces"], row["weight_kg"])
        for row in totals["per_type"]
    } == {
        code: sums([r for r in in_stock if r["type"] == code])
        for code in {r["type"] for r in in_stock}
    }

    # The CITES declarations: stock at 31 December, each item in the year of
    # its date received, archived items gone from the day they were archived.
    for year in (2015, 2016):
        end = D(year, 12, 31)
        ivory = cites.declaration(kind="ivory", year=year, scope=Scope())
        held = [r for r in held_at(rows, end) if KIND[r["type"]] == "ivory"]
        assert measure(ivory.total) == sums(held), year
        previous = [r for r in held_at(rows, D(year - 1, 12, 31)) if KIND[r["type"]] == "ivory"]
        assert measure(ivory.previous) == sums(previous), year
        for figures in ivory.classes:
            in_class = [r for r in held if IVORY_CLASS[r["type"]] == figures.key]
            assert measure(figures.total) == sums(in_class), (year, figures.key)
        assert ivory.marked == sum(r["marked"] for r in held), year
        assert len(ivory.annex) == sum(r["marked"] for r in held), year
        destroyed = [
            r
            for r in rows
            if KIND[r["type"]] == "ivory" and r["destroyed"] and r["archived"].year == year
        ]
        assert measure(ivory.destroyed) == sums(destroyed), year
        pangolin = cites.declaration(kind="pangolin", year=year, scope=Scope())
        scales = [r for r in held_at(rows, end) if KIND[r["type"]] == "pangolin"]
        assert measure(pangolin.total) == sums(scales), year

    # Not vacuous: the file has items of each year, archived ones, both stores.
    assert {r["received"].year for r in rows} == {2014, 2015, 2016}
    assert sum(r["destroyed"] for r in rows) == 2 and sum(bool(r["archived"]) for r in rows) == 3
    assert sums(held_at(rows, D(2015, 12, 31))) != sums(held_at(rows, D(2016, 12, 31)))
