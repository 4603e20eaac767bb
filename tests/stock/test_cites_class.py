"""Item types declare their CITES class (issue 12, item 1): the mark rule
reads the class, and existing countries got theirs once from the old rule
(migration stock 0008), which says what it decided.

The migration test runs in country A's schema inside the test's transaction:
PostgreSQL's DDL is transactional, so going back and forth is rolled back.
"""

import logging

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from stock import marks
from stock.models import ItemType
from tests.factories import ItemCategoryFactory, ItemTypeFactory

# Migrations and new schemas: the database owner's work (tests/database_roles.py).
pytestmark = [pytest.mark.django_db, pytest.mark.database_owner]

BEFORE = [("stock", "0007_pendingcorrection")]
AFTER = [("stock", "0008_itemtype_cites_class")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_types_get_their_class_from_the_old_rule_and_it_is_logged(
    in_country_a, caplog, settings
):
    settings.SMS_CITES_TYPE_CLASSES = {"ivory-bangle": "worked"}
    old_apps = _migrate(BEFORE)
    Category = old_apps.get_model("stock", "ItemCategory")
    Type = old_apps.get_model("stock", "ItemType")
    ivory = Category.objects.create(code="m-ivory", kind="ivory", labels={"en": "Ivory"})
    horn = Category.objects.create(code="m-horn", kind="rhino_horn", labels={"en": "Horn"})
    pangolin = Category.objects.create(code="m-pango", kind="pangolin", labels={"en": "P"})
    skin = Category.objects.create(code="m-skin", kind="skin", labels={"en": "Skin"})
    for category, code, whole in [
        (ivory, "tusk", True),
        (ivory, "ivory-whole-small", False),
        (ivory, "ivory-worked-misc", False),
        # The case: worked by its label, raw cut by the old rule.
        (ivory, "ivory-carving", False),
        (ivory, "ivory-bangle", False),
        (horn, "horn-whole", False),
        (horn, "horn-chips", False),
        (pangolin, "pangolin-scales", False),
        (pangolin, "ecailles", False),
        (skin, "skin-whole", False),
    ]:
        Type.objects.create(category=category, code=code, labels={"en": code.title()}, whole=whole)

    # The foreign keys are checked at commit: check them now, before the DDL.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with caplog.at_level(logging.INFO, logger="stock.migrations"):
        _migrate(AFTER)

    classes = dict(
        ItemType.objects.filter(category__code__startswith="m-").values_list("code", "cites_class")
    )
    assert classes == {
        "tusk": "ivory_raw_whole",
        "ivory-whole-small": "ivory_raw_whole",
        "ivory-worked-misc": "ivory_worked",
        "ivory-carving": "ivory_raw_cut",
        "ivory-bangle": "ivory_worked",
        "horn-whole": "rhino_whole",
        "horn-chips": "rhino_piece",
        "pangolin-scales": "pangolin_scales",
        "ecailles": "pangolin_other",
        "skin-whole": "",
    }
    # One line per decided type, naming it and the class, for the administrator to check.
    lines = [r.getMessage() for r in caplog.records if r.name == "stock.migrations"]
    assert len(lines) == 9
    [carving] = [line for line in lines if "ivory-carving" in line]
    assert "ivory_raw_cut" in carving and connection.schema_name in carving
    [bangle] = [line for line in lines if "ivory-bangle" in line]
    assert "SMS_CITES_TYPE_CLASSES" in bangle


def _carving(**kwargs):
    ivory = ItemCategoryFactory(code="ivory", kind="ivory")
    return ItemTypeFactory(
        code="ivory-carving",
        category=ivory,
        labels={"en": "Carvings (worked ivory)"},
        marking="cites_ivory",
        **kwargs,
    )


def test_worked_ivory_is_not_marked_as_a_cut_piece_whatever_its_code(in_country_a):
    worked = _carving(cites_class="ivory_worked")
    assert not marks.mark_required(item_type=worked, weight_kg="5", length_cm="40")


def test_a_declared_cut_piece_is_marked_by_size_even_with_whole_in_its_code(in_country_a):
    ivory = ItemCategoryFactory(code="ivory", kind="ivory")
    piece = ItemTypeFactory(
        code="piece-of-whole-tusk",
        category=ivory,
        marking="cites_ivory",
        cites_class="ivory_raw_cut",
    )
    assert not piece.is_whole
    assert not marks.mark_required(item_type=piece, weight_kg="5", length_cm="10")
    assert marks.mark_required(item_type=piece, weight_kg="5", length_cm="20")
    tusk = ItemTypeFactory(
        code="tusk", category=ivory, marking="cites_ivory", cites_class="ivory_raw_whole"
    )
    assert marks.mark_required(item_type=tusk, weight_kg="0.2", length_cm=None)
