"""A small protocol, as a test would write it, to edit per test."""

import copy

import yaml

BASE = {
    "country": {
        "code": "XM",
        "name": "Emland",
        "languages": ["en", "fr"],
        "default_language": "en",
        "time_zone": "Africa/Lagos",
        "two_factor_policy": "admins",
    },
    "sites": [
        {
            "code": "central",
            "name": "Central Store",
            "region": "Capital",
            "gps": {"lat": 6.5244, "lon": 3.3792},
            "custodian": "A. Warden",
        },
        {"code": "north", "name": "North Store", "region": "North"},
    ],
    "categories": [
        {
            "code": "ivory",
            "kind": "ivory",
            "labels": {"en": "Ivory", "fr": "Ivoire"},
            "mark_pattern": "{country} {yy}/{serial}/{weight}",
            "types": [
                {
                    "code": "tusk",
                    "labels": {"en": "Whole tusk", "fr": "Défense entière"},
                    "marking": "cites_ivory",
                    "whole": True,
                    "cites_class": "ivory_raw_whole",
                },
                {
                    "code": "cut-piece",
                    "labels": {"en": "Cut piece", "fr": "Morceau coupé"},
                    "cites_class": "ivory_raw_cut",
                },
            ],
        },
        {
            "code": "pangolin",
            "kind": "pangolin",
            "labels": {"en": "Pangolin", "fr": "Pangolin"},
            "types": [
                {
                    "code": "scales",
                    "labels": {"en": "Scales", "fr": "Écailles"},
                    "counting": "lot",
                    "cites_class": "pangolin_scales",
                }
            ],
        },
    ],
    "custom_fields": [
        {
            "key": "condition",
            "labels": {"en": "Condition", "fr": "État"},
            "type": "choice",
            "choices": [
                {"value": "intact", "labels": {"en": "Intact", "fr": "Intacte"}},
                {"value": "broken", "labels": {"en": "Broken", "fr": "Cassée"}},
            ],
            "applies_to": ["tusk", "cut-piece"],
        },
        {
            "key": "packages",
            "labels": {"en": "Packages", "fr": "Colis"},
            "type": "integer",
            "required": True,
            "applies_to": ["scales"],
        },
        {"key": "seal", "labels": {"en": "Seal number", "fr": "Numéro de scellé"}, "type": "text"},
    ],
    "administrators": [
        {"full_name": "Ada Admin", "email": "ada@emland.example", "username": "ada"},
    ],
}


def protocol_data(code: str = "XM") -> dict:
    data = copy.deepcopy(BASE)
    data["country"]["code"] = code
    return data


def protocol_yaml(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def write_protocol(tmp_path, data: dict, name: str = "protocol.yaml"):
    path = tmp_path / name
    path.write_text(protocol_yaml(data), encoding="utf-8")
    return path
