"""A Portuguese-speaking Management Authority's CITES declaration: the PDF and the
XLSX are in Portuguese, with the resolution cited as it writes it, even when a
worker without any request (no active language of its own) makes the file."""

import io

import openpyxl
import pytest
from django.utils import translation
from pypdf import PdfReader

from reporting import services

pytestmark = pytest.mark.django_db


def _declaration(history, fmt: str, language: str):
    hq = history.reg.hq
    hq.language = language
    hq.save(update_fields=["language"])
    run = services.report_request(
        actor=hq,
        kind="cites",
        fmt=fmt,
        title="Ivory 2025",
        params={"cites_kind": "ivory", "year": 2025},
        reasons="Apreensões na fronteira norte.",
    )
    # A Celery worker runs with the deployment's language, English.
    with translation.override("en"):
        run = services.report_generate(run_id=run.pk)
    assert run.status == "done", run.error
    run.file.open("rb")
    try:
        return run.file.read()
    finally:
        run.file.close()


def test_cites_pdf_is_in_the_requesters_portuguese(history):
    reader = PdfReader(io.BytesIO(_declaration(history, "pdf", "pt")))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Declaração de existências de marfim 2025" in text
    assert "Resolução Conf. 10.10 (Rev. CoP19)" in text
    assert "Marfim em bruto: presas inteiras" in text
    assert "Apreensões na fronteira norte." in text
    assert "Assinatura" in text
    assert "Ivory stock declaration" not in text and "Raw ivory" not in text


def test_cites_xlsx_is_in_the_requesters_portuguese(history):
    book = openpyxl.load_workbook(io.BytesIO(_declaration(history, "xlsx", "pt")))
    cells = {
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    }
    text = "\n".join(cells)
    assert "Marfim em bruto: presas inteiras" in text
    assert "Raw ivory: whole tusks" not in text


def test_a_requester_who_reads_english_gets_english(history):
    # The same worker, the same country: the file follows the requester, not the last one.
    reader = PdfReader(io.BytesIO(_declaration(history, "pdf", "en")))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Ivory stock declaration 2025" in text and "Res. Conf. 10.10 (Rev. CoP19)" in text
    assert "Declaração" not in text
