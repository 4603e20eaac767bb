"""The generated forms: ODK Validate accepts them; versions follow the definitions."""

import re
from xml.etree import ElementTree as etree  # noqa: N813

from odk import xlsforms
from stock.models import CustomFieldDefinition

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
