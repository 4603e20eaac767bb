"""The register import through its services (and the command): the template,
the dry run's per-cell report, the import and its ledger entries, idempotence,
an old register's layout, photos, the export, and the walls."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from openpyxl import load_workbook

from accounts.roles import SMS_ADMINISTRATOR, STORE_MANAGER
from audit.models import AccessEvent
from imports import services
from imports.models import ColumnMapping, ImportedRow, ImportRun
from ledger.models import LedgerEntry
from stock.models import ArchiveRecord, ItemPhoto, StockItem, StockTotal
from tests.factories import make_user

from .conftest import named, photo_zip, register, xlsx

pytestmark = pytest.mark.django_db

THIS_YEAR = datetime.date.today().year
TEMPLATE_HEADERS = [
    "Item type",
    "Store",
    "CITES mark",
    "Weight (kg)",
    "Date received",
    "Source",
    "Seizure file",
    "Photo files",
]


def good_rows():
    return [
        [
            "whole-tusk",
            "Store X",
            "XA 15/101/12",
            "12,4",
            datetime.date(2015, 3, 14),
            "Seizure",
            "S-1",
            None,
        ],
        ["Whole-tusk", "site-x", "xa15/0102/9", 9, "2015-06-01", "seizure", "S-2", None],
        ["cut-piece", "Store Y", None, "0,8", "14/02/2016", "Natural mortality", None, None],
    ]


def upload_run(reg, content, *, actor=None, photos=None, name="register.xlsx"):
    return services.run_upload(
        actor=actor or reg.admin,
        upload=named(content, name),
        photos=named(photos, "photos.zip") if photos is not None else None,
    )


def process(reg, run, *, dry_run, valid_only=False, actor=None):
    services.run_request(
        actor=actor or reg.admin, run=run, dry_run=dry_run, valid_only=valid_only, queue=False
    )
    return services.run_process(run_id=run.pk, dry_run=dry_run)


def errors_of(run):
    return {entry["row"]: entry["errors"] for entry in run.report if entry["errors"]}


# --- Template --------------------------------------------------------------------


def test_template_has_the_countrys_columns_lists_explanations_and_examples(reg, tmp_path):
    out = tmp_path / "template.xlsx"
    call_command(
        "import_register", "XA", "--template", "--output", str(out), "--user", reg.admin.username
    )
    book = load_workbook(out)
    register_sheet = book.worksheets[0]
    headers = [c.value for c in register_sheet[1]]
    for header in (
        "Item type",
        "Store",
        "CITES mark",
        "Weight (kg)",
        "Date received",
        "Seizure file",
        "Moisture (%)",
        "Archive reason",
        "Photo files",
    ):
        assert header in headers
    # Drop-down lists on the choice columns (types, stores, sources, legal status...).
    validated = {
        str(v.sqref).split(":")[0].rstrip("0123456789")
        for v in register_sheet.data_validations.dataValidation
    }
    letters = {
        headers[i]: register_sheet.cell(row=1, column=i + 1).column_letter
        for i in range(len(headers))
    }
    for header in ("Item type", "Store", "Source", "Legal status", "Archive reason", "Court hold"):
        assert letters[header] in validated, header
    lists = book["Lists"]
    assert "Store X" in [c.value for c in lists[letters_of(lists, "Store")]]
    explanations = book["Columns"]
    explained = {row[0].value: row[2].value for row in explanations.iter_rows(min_row=2)}
    assert "kilograms" in explained["Weight (kg)"]
    # Example rows, one with a decimal comma and a past year.
    examples = list(register_sheet.iter_rows(min_row=2, values_only=True))
    assert len(examples) == 2
    assert examples[0][headers.index("Weight (kg)")] == "12,4"
    assert AccessEvent.objects.filter(action="import_template", user=reg.admin).count() == 1


def letters_of(sheet, header):
    for cell in sheet[1]:
        if cell.value == header:
            return cell.column_letter
    raise AssertionError(header)


def test_template_labels_in_french(reg, tmp_path):
    out = tmp_path / "modele.xlsx"
    call_command(
        "import_register",
        "XA",
        "--template",
        "--output",
        str(out),
        "--user",
        reg.admin.username,
        "--language",
        "fr",
    )
    headers = [c.value for c in load_workbook(out).worksheets[0][1]]
    assert "Poids (kg)" in headers
    assert "Humidité (%)" in headers
    assert "Dossier de saisie" in headers


# --- Dry run ---------------------------------------------------------------------


def test_dry_run_of_good_rows_says_what_would_be_created_and_saves_nothing(reg):
    items, entries = StockItem.objects.count(), LedgerEntry.objects.count()
    run = upload_run(reg, xlsx(TEMPLATE_HEADERS, good_rows()))
    run = process(reg, run, dry_run=True)
    assert run.status == ImportRun.Status.CHECKED, run.error
    assert (run.rows_total, run.rows_valid, run.rows_refused) == (3, 3, 0)
    assert StockItem.objects.count() == items
    assert LedgerEntry.objects.count() == entries
    assert AccessEvent.objects.filter(action="import_check", user=reg.admin).count() == 1


def test_dry_run_reports_every_kind_of_bad_cell_beside_it(reg):
    existing = register(
        reg, cites_mark="XA 15/200/12", weight_kg="12.000", received_on="2015-01-02"
    )
    headers = [
        *TEMPLATE_HEADERS,
        "Moisture (%)",
        "Archive reason",
        "Archived on",
        "Authority reference",
    ]
    rows = [
        # 2: fine
        [
            "whole-tusk",
            "Store X",
            "XA 15/300/10",
            "10",
            "2015-01-01",
            "seizure",
            None,
            None,
            None,
            None,
            None,
            None,
        ],
        # 3: unknown type
        [
            "mammoth",
            "Store X",
            None,
            "3",
            "2015-01-01",
            "seizure",
            None,
            None,
            None,
            None,
            None,
            None,
        ],
        # 4: unknown store
        [
            "cut-piece",
            "Atlantis",
            None,
            "0.5",
            "2015-01-01",
            "seizure",
            None,
            None,
            None,
            None,
            None,
            None,
        ],
        # 5: no weight, a date in the future
        [
            "cut-piece",
            "Store X",
            None,
            None,
            f"{THIS_YEAR + 1}-01-01",
            "seizure",
            None,
            None,
            None,
            None,
            None,
            None,
        ],
        # 6: a mark that is no mark, an unknown source
        [
            "whole-tusk",
            "Store X",
            "ABC-12",
            "10",
            "2015-01-01",
            "gift",
            None,
            None,
            None,
            None,
            None,
            None,
        ],
        # 7: a legacy mark colliding with an existing item's serial
        [
            "whole-tusk",
            "Store X",
            "XA 15/200/11",
            "11",
            "2015-01-01",
            "seizure",
            None,
            None,
            None,
            None,
            None,
            None,
        ],
        # 8: the same serial as row 2 of this file
        [
            "whole-tusk",
            "Store X",
            "XA 15/300/10",
            "10",
            "2015-01-01",
            "seizure",
            None,
            None,
            None,
            None,
            None,
            None,
        ],
        # 9: a custom decimal that is no number
        [
            "cut-piece",
            "Store X",
            None,
            "0.5",
            "2015-01-01",
            "seizure",
            None,
            None,
            "damp",
            None,
            None,
            None,
        ],
        # 10: a photo named but no ZIP at all
        [
            "cut-piece",
            "Store X",
            None,
            "0.5",
            "2015-01-01",
            "seizure",
            None,
            "p1.jpg",
            None,
            None,
            None,
            None,
        ],
        # 11: archived without the authority's reference
        [
            "cut-piece",
            "Store X",
            None,
            "0.5",
            "2015-01-01",
            "seizure",
            None,
            None,
            None,
            "Deteriorated",
            "2016-01-01",
            None,
        ],
        # 12: a date that is no date, a negative weight
        [
            "cut-piece",
            "Store X",
            None,
            "-2",
            "31/31/2015",
            "seizure",
            None,
            None,
            None,
            None,
            None,
            None,
        ],
    ]
    run = process(reg, upload_run(reg, xlsx(headers, rows)), dry_run=True)
    assert run.status == ImportRun.Status.CHECKED, run.error
    assert (run.rows_valid, run.rows_refused) == (1, 10)
    errors = errors_of(run)
    assert set(errors[3]) == {"Item type"}
    assert "Atlantis" in errors[4]["Store"][0]
    assert set(errors[5]) == {"Weight (kg)", "Date received"}
    assert "future" in errors[5]["Date received"][0]
    assert set(errors[6]) == {"CITES mark", "Source"}
    assert existing.sms_number in errors[7]["CITES mark"][0]
    assert "row 2 of this file" in errors[8]["CITES mark"][0]
    assert set(errors[9]) == {"Moisture (%)"}
    assert "p1.jpg" in errors[10]["Photo files"][0]
    assert set(errors[11]) == {"Authority reference"}
    assert set(errors[12]) == {"Weight (kg)", "Date received"}
    assert StockItem.objects.count() == 1
    # The same workbook back, errors beside the cells.
    with run.report_file.open("rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()))
    sheet = book["Inventory 2015"]
    header_row = [c.value for c in sheet[1]]
    assert header_row[-2:] == ["SMS check", "Errors and warnings"]
    type_cell = sheet.cell(row=3, column=1)
    assert type_cell.comment is not None and "mammoth" in type_cell.comment.text
    assert sheet.cell(row=2, column=len(header_row) - 1).value == "would be created"
    assert sheet.cell(row=3, column=len(header_row) - 1).value == "refused"


def test_an_import_with_a_refused_row_saves_nothing_unless_valid_rows_only(reg):
    rows = [*good_rows(), ["mammoth", "Store X", None, "3", "2015-01-01", "seizure", None, None]]
    content = xlsx(TEMPLATE_HEADERS, rows)
    run = process(reg, upload_run(reg, content), dry_run=False)
    assert run.status == ImportRun.Status.REFUSED
    assert StockItem.objects.count() == 0
    run = process(reg, run, dry_run=False, valid_only=True)
    assert run.status == ImportRun.Status.DONE, run.error
    assert run.rows_created == 3
    assert StockItem.objects.count() == 3


# --- The import ------------------------------------------------------------------


def test_import_creates_items_with_their_source_in_the_ledger(reg):
    content = xlsx(TEMPLATE_HEADERS, good_rows())
    run = process(reg, upload_run(reg, content), dry_run=False)
    assert run.status == ImportRun.Status.DONE, run.error
    assert run.rows_created == 3
    first = ImportedRow.objects.get(row_number=2).item
    # The 2015 mark kept (canonical form), never regenerated; a decimal comma; a past date.
    assert first.cites_mark == "XA 15/101/12"
    assert (first.mark_year, first.mark_serial) == (2015, 101)
    assert first.weight_kg == Decimal("12.400")
    assert first.received_on == datetime.date(2015, 3, 14)
    assert first.custom_values == {"seizure_ref": "S-1"}
    second = ImportedRow.objects.get(row_number=3).item
    assert second.cites_mark == "XA 15/102/9"
    entry = LedgerEntry.objects.get(item_id=first.pk, event="registered")
    assert entry.payload["source"] == {
        "import": run.pk,
        "file": "register.xlsx",
        "sha256": run.sha256,
        "sheet": "Inventory 2015",
        "row": 2,
    }
    assert entry.payload["row"]["CITES mark"] == "XA 15/101/12"
    assert entry.payload["row"]["Weight (kg)"] == "12,4"
    assert entry.actor_id == reg.admin.pk
    # The chain is whole after a batch append.
    from ledger.chain import verify_chain

    assert verify_chain(full=True).ok
    # The items written in one COPY agree with their registrations in the ledger.
    from stock.ledger_check import items_verify

    assert items_verify()[1] == []
    totals = StockTotal.objects.get(site=reg.site_x, item_type=reg.tusk, status="in_stock")
    assert (totals.items, totals.weight_kg) == (2, Decimal("21.400"))
    assert AccessEvent.objects.filter(action="import_run", user=reg.admin).count() == 1


def test_the_same_file_twice_creates_nothing_and_a_corrected_file_adds_only_new_rows(reg):
    rows = good_rows()
    bad = ["whole-tusk", "Store X", "XA 15/105/5", "five", "2015-01-01", "seizure", None, None]
    content = xlsx(TEMPLATE_HEADERS, [*rows, bad])
    first = process(reg, upload_run(reg, content), dry_run=False, valid_only=True)
    assert first.rows_created == 3
    again = process(reg, upload_run(reg, content), dry_run=False, valid_only=True)
    assert again.status == ImportRun.Status.DONE
    assert (again.rows_known, again.rows_created) == (3, 0)
    dry = process(reg, upload_run(reg, content), dry_run=True)
    assert (dry.rows_known, dry.rows_valid, dry.rows_refused) == (3, 0, 1)
    corrected = ["whole-tusk", "Store X", "XA 15/105/5", "5", "2015-01-01", "seizure", None, None]
    fixed = process(reg, upload_run(reg, xlsx(TEMPLATE_HEADERS, [*rows, corrected])), dry_run=False)
    assert fixed.status == ImportRun.Status.DONE, fixed.error
    assert (fixed.rows_known, fixed.rows_created) == (3, 1)
    assert StockItem.objects.count() == 4


def test_identical_lots_in_one_file_are_two_items(reg):
    headers = ["Item type", "Store", "Weight (kg)", "Pieces", "Bags", "Date received"]
    lot = ["scales", "Store X", "40", 500, 2, "2015-01-01"]
    run = process(reg, upload_run(reg, xlsx(headers, [lot, lot])), dry_run=False)
    assert run.rows_created == 2
    assert process(reg, upload_run(reg, xlsx(headers, [lot, lot])), dry_run=False).rows_created == 0


def test_an_old_register_in_its_own_layout_through_the_mapping_step(reg):
    headers = [
        "Magasin",
        "Poids (kg)",
        "Tusk No.",
        "Type d'article",
        "Date de réception",
        "Remarks",
        "Condition",
    ]
    rows = [
        [
            "Central Armoury",
            "12,5",
            "XA 15/7/13",
            "whole-tusk",
            "2015-02-03",
            "broken tip",
            "Archived?",
        ],
        ["Central Armoury", "8", "XA 15/8/8", "whole-tusk", "03/04/2015", None, None],
    ]
    run = upload_run(reg, xlsx(headers, rows, title="Sheet1"))
    # French labels recognised; unknown headers kept in notes until mapped.
    assert run.columns["Magasin"] == "site"
    assert run.columns["Poids (kg)"] == "weight_kg"
    assert run.columns["Tusk No."] == "notes_extra"
    assert run.analysis["unknown_stores"] == {"Central Armoury": 2}
    run = services.mapping_save(
        actor=reg.admin,
        run=run,
        columns={"Tusk No.": "cites_mark", "Condition": "ignore"},
        stores={"Central Armoury": reg.site_y.pk},
    )
    run = process(reg, run, dry_run=False)
    assert run.status == ImportRun.Status.DONE, (run.error, run.report)
    item = StockItem.objects.get(cites_mark="XA 15/7/13")
    assert item.site == reg.site_y
    assert item.notes == "Remarks: broken tip"
    # A weight kept from the 2015 mark (13 vs 12.5 rounded to 13): no flag.
    assert item.mark_flag == ""
    # Saved for next time: a new file with the same headers maps by itself.
    assert ColumnMapping.objects.filter(header="tusk no", target="cites_mark").exists()
    next_run = upload_run(
        reg,
        xlsx(
            headers, [["Central Armoury", "3", "XA 15/9/3", "whole-tusk", "2015-01-01", None, None]]
        ),
    )
    assert next_run.columns["Tusk No."] == "cites_mark"
    assert next_run.columns["Condition"] == "ignore"
    assert next_run.analysis["unknown_stores"] == {}


def test_a_legacy_mark_whose_weight_differs_is_kept_with_a_warning(reg):
    run = process(
        reg,
        upload_run(
            reg,
            xlsx(
                TEMPLATE_HEADERS,
                [
                    [
                        "whole-tusk",
                        "Store X",
                        "XA 15/11/14",
                        "12",
                        "2015-01-01",
                        "seizure",
                        None,
                        None,
                    ]
                ],
            ),
        ),
        dry_run=False,
    )
    assert run.status == ImportRun.Status.DONE
    assert run.report[0]["warnings"] and not run.report[0]["errors"]
    item = StockItem.objects.get(cites_mark="XA 15/11/14")
    assert item.mark_flag == "legacy_weight"


def test_archived_items_are_imported_as_archived_with_their_reason(reg):
    headers = [
        *TEMPLATE_HEADERS,
        "Archive reason",
        "Archived on",
        "Authority reference",
        "Destruction method",
        "Witnesses",
    ]
    rows = [
        [
            "cut-piece",
            "Store X",
            None,
            "0,6",
            "2014-05-05",
            "seizure",
            None,
            None,
            "Destroyed",
            "2016-04-30",
            "Burn order 12/2016",
            "Burnt",
            "J. Doe; A. Roe",
        ],
    ]
    run = process(reg, upload_run(reg, xlsx(headers, rows)), dry_run=False)
    assert run.status == ImportRun.Status.DONE, (run.error, run.report)
    item = ImportedRow.objects.get().item
    item.refresh_from_db()
    assert item.status == StockItem.Status.ARCHIVED
    record = ArchiveRecord.objects.get(item=item)
    assert (record.reason, record.archived_on) == ("destroyed", datetime.date(2016, 4, 30))
    assert record.authority_reference == "Burn order 12/2016"
    assert not StockTotal.objects.filter(status="in_stock", items__gt=0).exists()
    assert list(LedgerEntry.objects.filter(item_id=item.pk).values_list("event", flat=True)) == [
        "registered",
        "archived",
    ]


def test_photos_come_from_the_zip_with_their_sha256(reg):
    rows = [
        [
            "cut-piece",
            "Store X",
            None,
            "0.5",
            "2015-01-01",
            "seizure",
            None,
            "IMG_1.JPG; img_2.jpg",
        ],
        ["cut-piece", "Store X", None, "0.7", "2015-01-01", "seizure", None, "img_3.jpg"],
    ]
    zip_content = photo_zip(["img_1.jpg", "img_2.jpg"])
    run = process(
        reg, upload_run(reg, xlsx(TEMPLATE_HEADERS, rows), photos=zip_content), dry_run=True
    )
    assert errors_of(run) == {3: {"Photo files": ["The photo img_3.jpg is not in the ZIP file."]}}
    run = process(reg, run, dry_run=False, valid_only=True)
    assert run.status == ImportRun.Status.DONE, run.error
    item = ImportedRow.objects.get(row_number=2).item
    photos = ItemPhoto.objects.filter(item=item)
    assert photos.count() == 2
    import hashlib

    for photo in photos:
        with photo.file.open("rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == photo.sha256


def test_a_photo_that_is_no_image_is_refused_as_on_the_web(reg):
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("fake.jpg", b"not an image at all")
    rows = [["cut-piece", "Store X", None, "0.5", "2015-01-01", "seizure", None, "fake.jpg"]]
    run = process(
        reg, upload_run(reg, xlsx(TEMPLATE_HEADERS, rows), photos=out.getvalue()), dry_run=True
    )
    assert "fake.jpg" in errors_of(run)[2]["Photo files"][0]


# --- Export ----------------------------------------------------------------------


def test_the_export_is_the_template_layout_and_imports_back(reg, tmp_path):
    process(reg, upload_run(reg, xlsx(TEMPLATE_HEADERS, good_rows())), dry_run=False)
    out = tmp_path / "register.xlsx"
    call_command(
        "import_register", "XA", "--export", "--output", str(out), "--user", reg.admin.username
    )
    sheet = load_workbook(out).worksheets[0]
    headers = [c.value for c in sheet[1]]
    rows = [
        dict(zip(headers, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert len(rows) == 3
    marks = {r["CITES mark"] for r in rows}
    assert {"XA 15/101/12", "XA 15/102/9"} <= marks
    assert {r["Store"] for r in rows} == {"Store X", "Store Y"}
    assert {r["Status"] for r in rows} == {"In stock"}
    assert any(r["Seizure file"] == "S-1" for r in rows)
    assert AccessEvent.objects.filter(action="register_export").count() == 1
    # Read back with the same columns; every row already imported (idempotent).
    run = upload_run(reg, out.read_bytes(), name="register.xlsx")
    assert run.columns["CITES mark"] == "cites_mark"
    assert run.columns["SMS number"] == "notes_extra"
    dry = process(reg, run, dry_run=True)
    # The marks are taken (they are these very items): refused, never doubled.
    assert dry.rows_valid == 1 and dry.rows_refused == 2


# --- Walls -----------------------------------------------------------------------


def test_a_store_manager_may_not_import(reg):
    with pytest.raises(PermissionDenied):
        upload_run(reg, xlsx(TEMPLATE_HEADERS, good_rows()), actor=reg.manager_x)
    with pytest.raises(PermissionDenied):
        services.template_build(actor=reg.manager_x)
    with pytest.raises(PermissionDenied):
        services.register_export(actor=reg.manager_x)


def test_a_scoped_administrator_imports_only_into_their_stores(reg):
    scoped = make_user(role=SMS_ADMINISTRATOR, sites=[reg.site_x])
    run = process(
        reg,
        upload_run(reg, xlsx(TEMPLATE_HEADERS, good_rows()), actor=scoped),
        dry_run=True,
        actor=scoped,
    )
    assert (run.rows_valid, run.rows_refused) == (2, 1)
    assert errors_of(run)[4] == {"Store": ["You may not register items at this site."]}
    with pytest.raises(Exception):  # noqa: B017, PT011 - a ValidationError naming the store
        services.mapping_save(
            actor=scoped, run=run, columns={}, stores={"Elsewhere": reg.site_y.pk}
        )


def test_the_export_holds_only_the_administrators_stores(reg):
    register(reg, site=reg.site_x, actor=reg.manager_x)
    register(reg, site=reg.site_y, actor=reg.manager_y)
    scoped = make_user(role=SMS_ADMINISTRATOR, sites=[reg.site_x])
    sheet = load_workbook(io.BytesIO(services.register_export(actor=scoped))).worksheets[0]
    assert [
        r[sheet[1][0].column - 1 + 3] for r in sheet.iter_rows(min_row=2, values_only=True)
    ] == ["Store X"]


def test_an_administrator_without_the_permission_is_refused(reg):
    from django.contrib.auth.models import Group

    user = make_user(role=STORE_MANAGER, sites=[reg.site_x])
    assert not user.has_perm(services.PERMISSION)
    assert (
        Group.objects.get(name="SMS administrator")
        .permissions.filter(codename="import_register")
        .exists()
    )


# --- Reports: an imported register is placed in its years ---------------------------


def test_imported_items_are_in_the_report_figures_of_their_year(reg):
    from reporting.aggregates import Totals
    from reporting.figures import Scope
    from tests.reporting.test_totals import assert_same_figures

    headers = [*TEMPLATE_HEADERS, "Archive reason", "Archived on", "Authority reference"]
    rows = [
        [*good_rows()[0], None, None, None],
        [*good_rows()[1], None, None, None],
        [*good_rows()[2], None, None, None],
        ["cut-piece", "Store X", None, "0,6", "2014-05-05", "seizure", None, None]
        + ["Deteriorated", "2016-04-30", "Order 12/2016"],
        # A third marked piece: the annexes compared have an order to compare.
        ["whole-tusk", "Store Y", "XA 15/103/10", "10", "2015-07-01", "seizure", None, None]
        + [None, None, None],
    ]
    run = process(reg, upload_run(reg, xlsx(headers, rows)), dry_run=False)
    assert run.status == ImportRun.Status.DONE, (run.error, run.report)
    # The batch fed the aggregates as one by one would: they equal the replay.
    assert_same_figures(Scope())
    totals = Totals(scope=Scope())

    def held(day):
        holdings = totals.holdings_at(day).values()
        return len(holdings), sum((h.weight_kg for h in holdings), Decimal(0))

    # Held at the end of 2014: the piece of 2014; of 2015: the three tusks of
    # 2015 as well; of 2016: the cut piece of 2016 came, the 2014 piece left.
    assert held(datetime.date(2014, 12, 31)) == (1, Decimal("0.600"))
    assert held(datetime.date(2015, 12, 31)) == (4, Decimal("32.000"))
    assert held(datetime.date(2016, 12, 31)) == (4, Decimal("32.200"))


def test_the_template_filled_with_good_rows_imports(reg):
    book = load_workbook(io.BytesIO(services.template_build(actor=reg.admin)))
    sheet = book["Register"]
    headers = [c.value for c in sheet[1]]
    sheet.delete_rows(2, sheet.max_row)
    for values in (
        {
            "Item type": "whole-tusk",
            "Store": "Store X",
            "CITES mark": "XA 15/41/10",
            "Weight (kg)": "10,2",
            "Date received": datetime.date(2015, 5, 1),
            "Source": "Seizure",
            "Seizure file": "S-9",
            "Moisture (%)": "12,5",
            "Court hold": "no",
        },
        {
            "Item type": "scales",
            "Store": "Store Y",
            "Weight (kg)": 40.5,
            "Pieces": 300,
            "Bags": 2,
            "Date received": "01/06/2015",
            "Legal status": "Evidence in a case",
        },
    ):
        sheet.append([values.get(header) for header in headers])
    out = io.BytesIO()
    book.save(out)
    run = process(reg, upload_run(reg, out.getvalue(), name="template.xlsx"), dry_run=False)
    assert run.status == ImportRun.Status.DONE, (run.error, run.report)
    assert run.rows_created == 2
    tusk = StockItem.objects.get(cites_mark="XA 15/41/10")
    assert tusk.custom_values == {"seizure_ref": "S-9", "moisture": "12.5"}
    assert tusk.court_hold is False
    lot = StockItem.objects.get(item_type=reg.scales)
    assert (lot.pieces, lot.bags, lot.legal_status) == (300, 2, "evidence")
    assert lot.received_on == datetime.date(2015, 6, 1)


# --- Set-wise: the queries of a check and of an import do not grow with rows ----------


def _register_of(count: int, first: int) -> bytes:
    rows = []
    for n in range(first, first + count):
        if n % 3 == 2:
            rows.append(
                ["scales", "Store Y", None, "40,5", "2015-04-04", "Saisie", f"S-{n}", 200, 1]
            )
        else:
            mark = f"XA 15/{n}/12"
            rows.append(
                ["whole-tusk", "site-x", mark, "12,1", "03/02/2015", "seizure", "S", 1, None]
            )
    return xlsx([*TEMPLATE_HEADERS[:7], "Pieces", "Bags"], rows)


def test_the_check_and_the_import_ask_the_database_per_file_not_per_row(reg):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    register(reg, cites_mark="XA 15/999/12", weight_kg="12.000")  # marks to compare with

    def queries(count, first, dry_run):
        run = upload_run(reg, _register_of(count, first))
        services.run_request(actor=reg.admin, run=run, dry_run=dry_run, queue=False)
        with CaptureQueriesContext(connection) as captured:
            run = services.run_process(run_id=run.pk, dry_run=dry_run)
        assert run.status in (ImportRun.Status.CHECKED, ImportRun.Status.DONE), run.error
        assert run.rows_refused == 0, run.report
        # Progress is written every 250 rows: not what is measured here.
        return [q["sql"] for q in captured.captured_queries if "imports_importrun" not in q["sql"]]

    few, many = queries(6, 100, True), queries(60, 200, True)
    assert len(many) == len(few), set(many) - set(few)
    few, many = queries(6, 300, False), queries(60, 400, False)
    assert len(many) == len(few), set(many) - set(few)
    assert StockItem.objects.count() == 1 + 6 + 60
