"""The country's ODK forms as files (country schema): each as an XLSForm
(.xlsx, the spreadsheet ODK's tools read) and as the XForm (.xml) SMS would
publish, so a country can check them, or load them into a Central by hand,
without SMS reaching a Central. Used by ``manage.py odk_forms`` and the ODK
page's download links."""

import io
from dataclasses import dataclass

from openpyxl import Workbook

from tenants.current import current_country

from . import xlsforms
from .models import FormVersion

KINDS = (FormVersion.Kind.REGISTER, FormVersion.Kind.STOCKTAKE)
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xml": "application/xml",
}


@dataclass
class FormFile:
    name: str
    content: bytes
    content_type: str


def _xlsx(workbook: dict) -> bytes:
    """The XLSForm dict (sheet -> rows of {column: value}) as an .xlsx file."""
    book = Workbook()
    book.remove(book.active)
    for sheet_name in ("survey", "choices", "settings"):
        rows = workbook.get(sheet_name) or []
        sheet = book.create_sheet(sheet_name)
        columns = list(dict.fromkeys(column for row in rows for column in row))
        sheet.append(columns)
        for row in rows:
            # Text as text: a label starting with "=" is no formula in Excel.
            sheet.append(["" if row.get(c) is None else str(row.get(c)) for c in columns])
            for cell in sheet[sheet.max_row]:
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def form_files(*, kind: str, validate: bool = False) -> list[FormFile]:
    """The XLSForm and XForm of ``kind`` for the current country, built as
    ``forms_generate`` builds them (same languages, same version when the
    definitions did not change since the last stored version)."""
    if kind not in KINDS:
        raise ValueError(kind)
    country = current_country()
    languages = list(country.languages or []) or [country.default_language]
    built = xlsforms.build(
        kind=kind, languages=languages, default_language=country.default_language
    )
    latest = FormVersion.objects.filter(kind=kind).order_by("-created_at").first()
    if latest and latest.version.split("-")[0] == built.version and latest.version != built.version:
        built = xlsforms.build(
            kind=kind,
            languages=languages,
            default_language=country.default_language,
            version=latest.version,
        )
    if validate:
        # ODK Validate (Java) on the XForm; raises what it refuses.
        xlsforms.build(
            kind=kind,
            languages=languages,
            default_language=country.default_language,
            version=built.version,
            validate=True,
        )
    base = f"{built.xml_form_id}-{built.version}"
    return [
        FormFile(f"{base}.xlsx", _xlsx(built.workbook), FORMATS["xlsx"]),
        FormFile(f"{base}.xml", built.xform.encode(), FORMATS["xml"]),
    ]
