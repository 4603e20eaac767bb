"""The generated forms: ODK Validate accepts them; versions follow the definitions."""

import json
import os
import re
from pathlib import Path
from xml.etree import ElementTree as etree  # noqa: N813

from odk import xlsforms
from stock.models import CustomFieldDefinition
from tests.factories import ItemCategoryFactory, ItemTypeFactory, SiteFactory

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
    # Each language by its own name, as Collect's language menu shows it.
    assert langs == {"English (en)", "Français (fr)"}
    text = built.xform
    # The type list is filtered by category, the custom field only for its type.
    assert "item[category= /data/what/category ]" in text
    assert "Couleur du sceau" in text and "Seal colour" in text
    assert re.search(r"selected\('whole-tusk',\s*/data/what/item_type\s*\)", text)
    # Photos: 1 to 5 with max-pixels; barcode for a scanned mark; no GPS (README).
    assert text.count('orx:max-pixels="2560"') == 5
    assert 'type="barcode"' in text and "geopoint" not in text
    assert f'version="{built.version}"' in text
    # Metadata, and each saved form named by type, weight and mark.
    for name in ("start", "end", "deviceid", "username"):
        assert f"<{name}/>" in text
    assert re.search(r'<bind nodeset="/data/meta/instanceName"[^>]*jr:choice-name', text)


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
    # The store lists name each store's managers: fixed names, not the factory's sequence.
    for user, name in ((reg.manager_x, "manager-x"), (reg.manager_y, "manager-y")):
        user.username = name
        user.save(update_fields=["username"])
    made = _workbooks()
    if os.environ.get("SMS_WRITE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(made, ensure_ascii=False, indent=1) + "\n")
    recorded = json.loads(GOLDEN.read_text())
    for kind in ("register", "stocktake"):
        for sheet in ("survey", "choices", "settings"):
            assert made[kind]["workbook"][sheet] == recorded[kind]["workbook"][sheet], (kind, sheet)
        assert made[kind]["version"] == recorded[kind]["version"]


# --- Sections, the mark rule, the stores per store manager (issue 14) -------------------------


def _register(reg, languages=("en", "fr")) -> xlsforms.BuiltForm:
    return xlsforms.build(kind="register", languages=list(languages), default_language="en")


def test_the_register_form_is_in_sections_with_each_question_in_its_own(reg):
    _every_kind_of_question(reg)
    built = _register(reg)
    groups = xlsforms.question_groups(built.workbook)
    assert groups["item_type"] == groups["horn_position"] == groups["bags"] == ("what",)
    assert groups["source"] == ("origin",) and groups["site"] == ("arrival",)
    assert groups["dna_sample_id"] == ("dna",) and groups["cf_bag_ref"] == ("custom",)
    assert groups["mark_entry"] == ("mark",) and groups["photo_1"] == ("photos",)
    # Type-specific questions before the notes, not after them.
    what = [
        row["name"] for row in built.workbook["survey"] if groups.get(row.get("name")) == ("what",)
    ]
    assert what[-1] == "notes" and what.index("horn_position") < what.index("notes")
    # No question twice, no position (README: The forms).
    names = [row["name"] for row in built.workbook["survey"] if row["type"] != "end_group"]
    assert len(names) == len(set(names)) and "location" not in names
    # Every required question says why in every language.
    for row in built.workbook["survey"]:
        if row.get("required") == "yes":
            assert row["required_message::English (en)"] and row["required_message::Français (fr)"]


def test_a_submission_nested_in_sections_reads_back_by_question_name(reg):
    row = {
        "__id": "uuid:1",
        "meta": {"instanceID": "uuid:1"},
        "what": {"item_type": "whole-tusk", "weight_kg": 12.5},
        "arrival": {"site": "site-x"},
        "mark": {"mark_entry": "typed", "cites_mark": "XA 26/1/13"},
    }
    flat = xlsforms.flat_answers(row)
    assert flat["item_type"] == "whole-tusk" and flat["site"] == "site-x"
    assert flat["cites_mark"] == "XA 26/1/13" and flat["meta"] == {"instanceID": "uuid:1"}
    assert xlsforms.flat_answers(flat) == flat  # a submission stored before the sections


def _mark_checks(xform: str) -> list[str]:
    xml = etree.fromstring(xform.encode())
    return [
        bind.get("constraint")
        for bind in xml.iterfind(".//x:bind", NS)
        if bind.get("nodeset", "").endswith(("/cites_mark", "/cites_mark_scan"))
    ]


MARKS = [
    "XA 26/127/14",
    "xa26/0127/14,5",
    "  XA   26/1/0  ",
    "XA 2026/127/14",
    "XB 26/127/14",
    "XA 26/127",
    "garbage mark",
    "XA 26/127/14/1",
]


def test_the_mark_constraint_is_the_servers_rule_for_each_categorys_pattern(reg):
    from stock import marks

    reg.pangolin.mark_pattern = "{country}/{serial:4}/{yyyy}/{weight}"
    reg.pangolin.save()
    reg.scales.marking = "always"
    reg.scales.save()
    built = _register(reg)
    checks = _mark_checks(built.xform)
    assert len(checks) == 2 and checks[0] == checks[1]
    for category in (reg.ivory, reg.pangolin):
        pattern = marks.pattern_of(category)
        form_regex = xlsforms.mark_form_regex(pattern, country="XA")
        # In the form, only for its category; Java's and JavaScript's regex
        # read these constructs as Python's does.
        assert f"selected('{category.code}',  /data/what/category )" in checks[0]
        assert form_regex.replace("'", "") in checks[0].replace("&gt;", ">")
        for mark in [*MARKS, "XA/0127/2026/14", "xa/127/2026/14.5", "XA/127/26/14"]:
            server = marks.parse_mark(mark, pattern=pattern, country="XA") is not None
            assert bool(re.match(form_regex, mark)) == server, (pattern, mark)
    assert not re.match(
        xlsforms.mark_form_regex(marks.DEFAULT_PATTERN, country="XA"), "garbage mark"
    )


def test_the_mark_choice_says_when_sms_gives_one(reg):
    built = _register(reg)
    due = {c["name"]: c["due"] for c in built.workbook["choices"] if c["list_name"] == "mark_entry"}
    assert due == {
        "none": "yes",
        "none_small": "no",
        "none_unmeasured": "length",
        "typed": "any",
        "scanned": "any",
    }
    calc = next(r for r in built.workbook["survey"] if r["name"] == "mark_due")["calculation"]
    # Whole tusks always; cut pieces from 20 cm and 1 kg (stock.marks.mark_required).
    assert "if(selected('whole-tusk', ${item_type}), 'yes'" in calc
    assert "number(${weight_kg}) >= 1" in calc and "number(${length_outer_cm}) >= 20" in calc


def test_weights_have_an_upper_limit(reg):
    survey = {r["name"]: r for r in _register(reg).workbook["survey"] if "name" in r}
    assert (
        "<= if(selected('scales', ${item_type}), 50000, 200)" in survey["weight_kg"]["constraint"]
    )
    assert ". <= ${weight_kg} * 1000" in survey["dna_weight_removed_g"]["constraint"]


def test_a_store_manager_is_offered_only_their_own_stores(reg):
    """The store list carries each store's managers; Collect's username (set by
    SMS's QR code) filters it. Manager Y is not offered store X."""
    from accounts.roles import STORE_MANAGER
    from tests.factories import make_user

    both = make_user(role=STORE_MANAGER, sites=[reg.site_x, reg.site_y])
    SiteFactory(code="aa-empty", name="AA store nobody manages")  # listed first
    for kind in ("register", "stocktake"):
        built = xlsforms.build(
            kind=kind, languages=["en", "fr"], default_language="en", validate=True
        )
        sites = {
            c["name"]: c.get("managers", "").split()
            for c in built.workbook["choices"]
            if c["list_name"] == "sites"
        }
        assert sites["aa-empty"] == []
        assert set(sites["site-x"]) == {reg.manager_x.username, both.username}
        assert set(sites["site-y"]) == {reg.manager_y.username, both.username}
        assert reg.hq.username not in sites["site-x"]  # not a store manager
        site = next(r for r in built.workbook["survey"] if r["name"] == "site")
        # Filtered by Collect's username; the store already chosen stays (an edit in Central).
        assert site["choice_filter"] == (
            "${username} = '' or selected(managers, ${username}) or name = ${site}"
        )


def test_a_custom_field_repeating_a_built_in_question_is_left_out_and_cf_is_not_doubled(reg):
    CustomFieldDefinition.objects.create(
        key="bags", labels={"en": "Number of bags"}, field_type="integer"
    )
    CustomFieldDefinition.objects.create(
        key="horn-pos", labels={"en": "Horn position", "fr": "Position"}, field_type="text"
    )
    CustomFieldDefinition.objects.create(
        key="cf_colour",
        labels={"en": "Colour"},
        field_type="choice",
        choices=[{"value": "red", "labels": {"en": "Red"}}],
    )
    built = _register(reg)
    names = [r.get("name") for r in built.workbook["survey"]]
    assert "cf_colour" in names and "cf_bags" not in names and "cf_horn_pos" not in names
    assert "cf_cf_" not in built.xform
    assert {c["list_name"] for c in built.workbook["choices"]} >= {"cf_colour"}


def test_the_stocktake_form_finds_an_item_by_its_scanned_label_or_a_search(reg):
    built = xlsforms.build(kind="stocktake", languages=["en"], default_language="en")
    survey = {r["name"]: r for r in built.workbook["survey"]}
    assert survey["scan"]["type"] == "barcode"
    # A number not in the store's list is refused, with a message saying so.
    assert (
        "count(instance('items')/root/item[site = ${site} and sms_number"
        in survey["scan"]["constraint"]
    )
    assert "not in this store's list" in survey["scan"]["constraint_message::English (en)"]
    assert survey["item_chosen"]["appearance"] == "autocomplete"
    assert survey["item_chosen"]["choice_filter"] == "site=${site}"
    # odk.sync reads the entity's UUID from "item", whichever way it was found.
    assert (
        survey["item"]["type"] == "calculate" and "${item_chosen}" in survey["item"]["calculation"]
    )
    assert xlsforms.entity_label(
        sms_number="XA-2026-000001", mark="XA 26/1/13", weight_kg="12.500"
    ) == ("XA-2026-000001 · XA 26/1/13 · 12.5 kg")
    assert xlsforms.entity_label(sms_number="XA-2026-000002", mark=None, weight_kg="0.250") == (
        "XA-2026-000002 · — · 0.25 kg"
    )
