"""The ODK forms of a lusophone country: every label in Portuguese, in a
`label::Português (pt)` column that ODK Validate accepts."""

from xml.etree import ElementTree as etree  # noqa: N813

from odk import xlsforms

NS = {"h": "http://www.w3.org/1999/xhtml", "x": "http://www.w3.org/2002/xforms"}


def _texts(xform: str, lang: str) -> set[str]:
    xml = etree.fromstring(xform.encode())
    [translation] = [
        t for t in xml.iterfind(".//x:itext/x:translation", NS) if t.get("lang") == lang
    ]
    return {value.text for value in translation.iterfind(".//x:value", NS) if value.text}


def test_register_form_has_portuguese_labels_and_passes_odk_validate(reg):
    built = xlsforms.build(
        kind="register", languages=["pt", "en"], default_language="pt", validate=True
    )
    xml = etree.fromstring(built.xform.encode())
    langs = {t.get("lang") for t in xml.iterfind(".//x:itext/x:translation", NS)}
    assert langs == {"Português (pt)", "English (en)"}
    portuguese = _texts(built.xform, "Português (pt)")
    assert {"Tipo de artigo", "Categoria", "Marca CITES já colocada no artigo?"} <= portuguese
    assert "Item type" not in portuguese
    assert "Item type" in _texts(built.xform, "English (en)")
    # The survey's columns, as the XLSForm carries them.
    survey_columns = set().union(*(row.keys() for row in built.workbook["survey"]))
    assert "label::Português (pt)" in survey_columns


def test_stocktake_form_has_portuguese_labels_and_passes_odk_validate(reg):
    built = xlsforms.build(kind="stocktake", languages=["pt"], default_language="pt", validate=True)
    portuguese = _texts(built.xform, "Português (pt)")
    assert {"Encontrado?", "Danificado?", "Peso agora (kg)"} <= portuguese
