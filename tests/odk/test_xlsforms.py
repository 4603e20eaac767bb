"""The generated forms: ODK Validate accepts them; versions follow the definitions."""

import json
import os
import re
from pathlib import Path
from xml.etree import ElementTree as etree  # noqa: N813

from odk import xlsforms
from stock.models import CustomFieldDefinition
from tests.factories import ItemCategoryFactory, ItemTypeFactory

NS = {"h": "http://www.w3.org/1999/xhtml", "x": "http://www.w3.org/2002/xforms"}


def _custom_field(reg, **fields):
    data = {
        "key": "seal_colour",
        "labels": {"en": "Seal colour", "fr": "Couleur du sceau"},
        "field_type": "choice",
        "choices": [{"value": "red", "labels": {"en": "Red", "fr": "Rouge"}}],
        "unit": "",
    }
    data.update(fields)
    definition = CustomFieldDefinition.objects.create(**data)
    definition.applies_to.set([reg.tusk])
    return definition


def test_register_form_passes_odk_validate_with_every_language(reg):
    _custom_field(reg)
    built = xlsforms.build(
        kind="register", languages=["en", "fr"], default_language="en", validate=True
    )
    xml = etree.fromstring(built.xform.encode())
    langs = {t.get("lang") for t in xml.iterfind(".//x:itext/x:translation", NS)}
    assert langs == {"English (en)", "French (fr)"}
    text = built.xform
    # The type list is filtered by category, the custom field only for its type.
    assert "item[category= /data/category ]" in text
    assert "Couleur du sceau" in text and "Seal colour" in text
    assert re.search(r"selected\('whole-tusk',\s*/data/item_type\s*\)", text)
    # Photos: 1 to 5 with max-pixels; barcode for a scanned mark; GPS.
    assert text.count('orx:max-pixels="2560"') == 5
    assert 'type="barcode"' in text and "geopoint" in text
    assert f'version="{built.version}"' in text


def test_stocktake_form_passes_odk_validate_and_reads_the_items_entity_list(reg):
    built = xlsforms.build(
        kind="stocktake", languages=["fr", "en"], default_language="fr", validate=True
    )
    assert "jr://file-csv/items.csv" in built.xform
    assert "Store X" in built.xform


def test_a_changed_field_definition_gives_a_new_version_and_nothing_else_does(reg):
    definition = _custom_field(reg)
    first = xlsforms.build(kind="register", languages=["en"], default_language="en")
    again = xlsforms.build(kind="register", languages=["en"], default_language="en")
    assert again.version == first.version
    definition.unit = "cm"
    definition.save()
    changed = xlsforms.build(kind="register", languages=["en"], default_language="en")
    assert changed.version != first.version


# --- The workbooks, row for row ------------------------------------------------------------

GOLDEN = Path(__file__).parent / "golden" / "xlsforms.json"


def _every_kind_of_question(reg):
    """reg's types plus a rhino horn and a skin piece, custom fields of every type."""
    horn = ItemCategoryFactory(code="horn", kind="rhino_horn")
    skins = ItemCategoryFactory(code="skins", kind="skin")
    ItemTypeFactory(code="horn-whole", category=horn, marking="cites_horn", whole=True)
    ItemTypeFactory(code="skin-piece", category=skins)
    fields = [
        ("seal-colour", "choice", {"choices": [{"value": "red", "labels": {"en": "Red"}}]}),
        (
            "findings",
            "multi_choice",
            {"choices": [{"value": "cut", "labels": {"fr": "Coupé", "en": "Cut"}}, {"value": 2}]},
        ),
        ("bag-ref", "text", {"required": True}),
        ("seized-count", "integer", {"unit": "pcs"}),
        ("humidity", "decimal", {"unit": "%"}),
        ("sealed-on", "date", {}),
        ("photographed", "boolean", {}),
    ]
    for order, (key, kind, extra) in enumerate(fields):
        definition = CustomFieldDefinition.objects.create(
            key=key,
            labels={"en": key.replace("-", " ").capitalize(), "fr": key.upper()},
            field_type=kind,
            order=order,
            **extra,
        )
        if order % 2 == 0:  # the others apply to every type
            definition.applies_to.set([reg.tusk, reg.scales])


def _workbooks() -> dict:
    out = {}
    for kind in ("register", "stocktake"):
        built = xlsforms.build(kind=kind, languages=["en", "fr"], default_language="en")
        out[kind] = {"version": built.version, "workbook": built.workbook}
    # The same JSON a file would hold (tuples become lists, keys stay strings).
    return json.loads(json.dumps(out, ensure_ascii=False))


def test_the_workbooks_are_the_ones_recorded_row_for_row(reg):
    """What the builders make for a known country, recorded in golden/xlsforms.json.

    A change to a form's content is a change to that file: regenerate it with
    ``SMS_WRITE_GOLDEN=1 ./sms test tests/odk/test_xlsforms.py`` and review the diff.
    """
    _every_kind_of_question(reg)
    made = _workbooks()
    if os.environ.get("SMS_WRITE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(made, ensure_ascii=False, indent=1) + "\n")
    recorded = json.loads(GOLDEN.read_text())
    for kind in ("register", "stocktake"):
        for sheet in ("survey", "choices", "settings"):
            assert made[kind]["workbook"][sheet] == recorded[kind]["workbook"][sheet], (kind, sheet)
        assert made[kind]["version"] == recorded[kind]["version"]
