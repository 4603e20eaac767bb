"""Validation of protocol files: every problem named by its key path, before
anything touches the database."""

import pytest

from provisioning.protocol import ProtocolInvalid, protocol_load, protocol_parse
from tests.provisioning.helpers import protocol_data, protocol_yaml


def issues_of(data_or_text) -> list[str]:
    text = data_or_text if isinstance(data_or_text, str) else protocol_yaml(data_or_text)
    with pytest.raises(ProtocolInvalid) as caught:
        protocol_parse(text)
    return [str(issue) for issue in caught.value.issues]


def test_valid_protocol_parses_with_defaults():
    data = protocol_data()
    data["country"]["code"] = "xm"
    protocol = protocol_parse(protocol_yaml(data))
    assert protocol.country.code == "XM"
    assert protocol.sites[1].active is True
    assert protocol.sites[1].gps is None
    assert protocol.categories[0].types[1].counting == "piece"
    assert protocol.custom_fields[2].applies_to is None  # every type
    assert protocol.administrators[0].login == "ada"


def test_username_defaults_to_email():
    data = protocol_data()
    del data["administrators"][0]["username"]
    assert protocol_parse(protocol_yaml(data)).administrators[0].login == "ada@emland.example"


def test_yaml_syntax_error_gives_its_line():
    text = protocol_yaml(protocol_data()).replace("name: North Store", "name: [North Store", 1)
    [issue] = issues_of(text)
    assert issue.startswith("YAML syntax error at line ")
    line = int(issue.split("line ")[1].split(",")[0])
    assert line > 5


def test_missing_required_key_is_named():
    data = protocol_data()
    del data["sites"][1]["name"]
    assert issues_of(data) == ["sites[1].name: this key is required"]


def test_unknown_item_type_in_applies_to():
    data = protocol_data()
    data["custom_fields"][0]["applies_to"] = ["tusk", "tuskk"]
    assert issues_of(data) == ['custom_fields[0].applies_to[1]: unknown item type "tuskk"']


def test_duplicate_site_code():
    data = protocol_data()
    data["sites"][1]["code"] = "central"
    assert issues_of(data) == ["sites[1].code: this code is used twice (first at sites[0].code)"]


def test_bad_iso_code_and_misspelt_key_reported_together():
    data = protocol_data()
    data["country"]["code"] = "XYZ"
    data["sites"][0]["regoin"] = "Capital"
    assert issues_of(data) == [
        'country.code: "XYZ" is not a two-letter ISO code',
        "sites[0].regoin: unknown key",
    ]


def test_yaml_boolean_country_code_suggests_quotes():
    # Norway's code unquoted is the boolean false in YAML.
    text = protocol_yaml(protocol_data()).replace("code: XM", "code: NO", 1)
    assert issues_of(text) == ["country.code: must be text (put it in quotes)"]


def test_semantic_errors():
    data = protocol_data()
    data["country"]["default_language"] = "pt"
    data["categories"][1]["types"][0]["code"] = "tusk"
    data["categories"][0]["mark_pattern"] = ""
    data["custom_fields"][1]["type"] = "choice"
    data["administrators"].append({"full_name": "Bis", "email": "ADA@emland.example"})
    issues = issues_of(data)
    assert 'country.default_language: "pt" is not in country.languages' in issues
    assert (
        "categories[1].types[0].code: this type code is used twice "
        "(first at categories[0].types[0].code)" in issues
    )
    assert "categories[0].mark_pattern: required because type tusk is marked" in issues
    assert "custom_fields[1].choices: a choice field needs at least one choice" in issues
    assert (
        "administrators[1].email: this address is used twice (first at administrators[0].email)"
        in issues
    )


def test_labels_must_use_the_country_languages():
    data = protocol_data()
    data["categories"][0]["labels"] = {"fr": "Ivoire", "de": "Elfenbein"}
    assert issues_of(data) == [
        'categories[0].labels.de: "de" is not one of the country\'s languages (en, fr)',
        "categories[0].labels: a label in the default language (en) is required",
    ]


def test_mark_pattern_placeholders_are_checked():
    data = protocol_data()
    data["categories"][0]["mark_pattern"] = "{country} {year}/{serial}"
    [issue] = issues_of(data)
    assert issue.startswith('categories[0].mark_pattern: unknown placeholder "{year}"')


def test_mark_pattern_accepts_padded_serial():
    data = protocol_data()
    data["categories"][0]["mark_pattern"] = "{country}/{serial:4}/{yyyy}/{weight}"
    protocol = protocol_parse(protocol_yaml(data))
    assert protocol.categories[0].mark_pattern == "{country}/{serial:4}/{yyyy}/{weight}"


def test_empty_and_non_mapping_files():
    assert issues_of("") == [
        "the protocol must be a mapping with the keys country, sites, categories, "
        "custom_fields and administrators"
    ]
    assert issues_of("- a\n- b\n")[0].startswith("the protocol must be a mapping")


def test_missing_file(tmp_path):
    with pytest.raises(ProtocolInvalid) as caught:
        protocol_load(tmp_path / "nope.yaml")
    assert "cannot read" in str(caught.value)


@pytest.mark.parametrize("name", ["demo.yaml", "exemple-fr.yaml", "exemplo-pt.yaml"])
def test_shipped_protocols_are_valid(name, settings):
    protocol = protocol_load(settings.BASE_DIR / "provisioning" / "protocols" / name)
    assert protocol.country.code in {"XD", "XF", "XL"}


def test_a_cites_type_without_its_class_is_refused_by_name():
    data = protocol_data()
    del data["categories"][0]["types"][1]["cites_class"]
    assert issues_of(data) == [
        "categories[0].types[1].cites_class: type cut-piece needs its CITES class, one of "
        "ivory_raw_whole, ivory_raw_cut, ivory_worked"
    ]


def test_a_cites_class_must_belong_to_the_kind():
    data = protocol_data()
    data["categories"][1]["types"][0]["cites_class"] = "ivory_worked"
    assert issues_of(data) == [
        "categories[1].types[0].cites_class: type scales: ivory_worked is not a class of "
        "pangolin; use one of pangolin_scales, pangolin_other"
    ]


def test_an_unknown_cites_class_is_refused():
    data = protocol_data()
    data["categories"][0]["types"][1]["cites_class"] = "worked"
    [issue] = issues_of(data)
    assert issue.startswith("categories[0].types[1].cites_class: ")


def test_a_non_cites_category_takes_no_class():
    data = protocol_data()
    data["categories"].append(
        {
            "code": "skin",
            "kind": "skin",
            "labels": {"en": "Skins", "fr": "Peaux"},
            "types": [
                {
                    "code": "skin-cat",
                    "labels": {"en": "Cat skin", "fr": "Peau de félin"},
                    "cites_class": "pangolin_other",
                }
            ],
        }
    )
    assert issues_of(data) == [
        "categories[2].types[0].cites_class: type skin-cat: a skin category has no CITES "
        "class; remove it"
    ]
    del data["categories"][2]["types"][0]["cites_class"]
    assert protocol_parse(protocol_yaml(data)).categories[2].types[0].cites_class is None


def test_a_whole_type_declares_a_whole_class():
    data = protocol_data()
    data["categories"][0]["types"][0]["cites_class"] = "ivory_worked"
    assert issues_of(data) == [
        "categories[0].types[0].whole: type tusk is whole but its CITES class ivory_worked "
        "is not a whole one"
    ]


@pytest.mark.parametrize(
    ("key", "labels", "built_in"),
    [
        ("horn_position", {"en": "Horn position", "fr": "Position de la corne"}, "horn position"),
        ("bag_count", {"en": "Number of bags", "fr": "Nombre de sacs"}, "bags"),
        ("nombre_sacs", {"fr": "Nombre de sacs", "en": "Sacks"}, "sacs"),
        ("weighed", {"en": "Species", "fr": "Espèce"}, "species"),
    ],
)
def test_a_custom_field_that_repeats_a_built_in_one_is_refused(key, labels, built_in):
    """The form would ask twice (and the register keep two answers)."""
    data = protocol_data()
    data["custom_fields"].append({"key": key, "labels": labels, "type": "integer"})
    [issue] = issues_of(data)
    assert issue.startswith("custom_fields[3].key: repeats the built-in field ")
    assert f'"{built_in}"' in issue.lower()


def test_a_custom_field_with_a_name_of_its_own_is_accepted():
    data = protocol_data()
    data["custom_fields"].append(
        {"key": "microchip_number", "labels": {"en": "Microchip number"}, "type": "text"}
    )
    assert protocol_parse(protocol_yaml(data)).custom_fields[3].key == "microchip_number"
