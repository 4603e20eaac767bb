"""CITES marks (issue 12, items 2 and 3): one canonical form, a serial unique
per (series, year) whatever the weight part says, the year and the weight of
a typed mark checked, every markable piece marked; typed at registration and
in corrections alike."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from stock import filters, marks, services
from stock.models import MarkFlag, StockItem
from tests.stock.conftest import register

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year
YY = f"{YEAR % 100:02d}"
NEXT_YY = f"{(YEAR + 1) % 100:02d}"
LAST_YY = f"{(YEAR - 2) % 100:02d}"


def refused(callable_, **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        callable_(**kwargs)
    return " ".join(caught.value.message_dict.get("cites_mark", [])) or str(caught.value)


def correct(reg, item, **changes):
    return services.item_correct(actor=reg.manager_x, item=item, changes=changes, reason="Checked")


# --- the canonical form -----------------------------------------------------------------


def test_a_mark_is_stored_in_one_canonical_form(reg):
    item = register(reg, cites_mark=f"  xa{LAST_YY}/0042/013 ", weight_kg="12.600")
    item.refresh_from_db()
    assert item.cites_mark == f"XA {LAST_YY}/42/13"
    assert (item.mark_year, item.mark_serial) == (YEAR - 2, 42)
    assert item.mark_series == marks.DEFAULT_PATTERN


def test_a_padded_serial_keeps_the_padding_of_its_pattern(reg):
    parsed = marks.parse_mark(
        "ke-24-42-1", pattern="{country}-{yy}-{serial:5}-{weight}", country="KE"
    )
    assert (parsed.text, parsed.serial) == ("KE-24-00042-1", 42)
    assert marks.parse_mark("KE 24/1/1.250", pattern=marks.DEFAULT_PATTERN, country="KE").text == (
        "KE 24/1/1.25"
    )


def test_the_mark_regex_has_one_definition_for_odk(reg):
    regex = marks.mark_regex(marks.DEFAULT_PATTERN, country="XA", named=False)
    assert "?P<" not in regex
    import re

    assert re.fullmatch(regex, "XA 24/1/12") and re.fullmatch(regex, "XA24/001/12.5")
    assert not re.fullmatch(regex, "XB 24/1/12")


# --- the year and the weight -------------------------------------------------------------


def test_a_typed_mark_of_a_future_year_is_refused_at_registration(reg):
    message = refused(register, reg=reg, cites_mark=f"XA {NEXT_YY}/104/5", weight_kg="5")
    assert "future" in message
    assert not StockItem.objects.exists()


def test_a_mark_of_this_year_must_carry_the_items_weight(reg):
    message = refused(register, reg=reg, cites_mark=f"XA {YY}/9/50", weight_kg="5")
    assert "5.000 kg is 5, not 50" in message
    # Rounded half up to whole kilograms: 13.5 kg is 14.
    item = register(reg, cites_mark=f"XA {YY}/9/14", weight_kg="13.5")
    assert item.cites_mark == f"XA {YY}/9/14" and item.mark_flag == ""


def test_two_digit_years_from_76_are_the_last_century():
    parse = marks.parse_mark
    assert parse("XA 99/1/5", pattern=marks.DEFAULT_PATTERN, country="XA").year == 1999
    assert parse("XA 76/1/5", pattern=marks.DEFAULT_PATTERN, country="XA").year == 1976
    assert parse("XA 75/1/5", pattern=marks.DEFAULT_PATTERN, country="XA").year == 2075


def test_an_older_mark_with_another_weight_is_kept_and_flagged(reg):
    item = register(reg, cites_mark=f"XA {LAST_YY}/3/12", weight_kg="10.2")
    assert item.cites_mark == f"XA {LAST_YY}/3/12"
    assert item.mark_flag == MarkFlag.LEGACY_WEIGHT


# --- one serial per (series, year) ---------------------------------------------------------


def test_the_serial_is_unique_whatever_the_weight_and_the_spelling(reg):
    register(reg, cites_mark="XA 24/1/12", weight_kg="12")
    for other in ("XA 24/01/12", "XA 24/1/13", "xa24/001/5"):
        message = refused(register, reg=reg, cites_mark=other, weight_kg="12")
        assert "Serial 1 of 2024 is already on item" in message, other
    item = register(reg, cites_mark="XA24/111/5", weight_kg="5")
    assert item.cites_mark == "XA 24/111/5"


def test_an_archived_items_serial_is_never_reused(reg):
    item = register(reg, cites_mark="XA 24/5/12", weight_kg="12")
    services.item_archive(
        actor=reg.manager_x,
        item=item,
        reason="destroyed",
        archived_on=timezone.localdate(),
        authority_reference="Order 1",
        destruction_method="Burnt",
        witnesses="A, B",
    )
    assert "Serial 5" in refused(register, reg=reg, cites_mark="XA 24/5/9", weight_kg="9")


def test_the_generator_skips_a_serial_held_by_a_typed_mark_with_another_weight(reg):
    typed = register(reg, cites_mark=f"XA {YY}/1/5", weight_kg="5")
    generated = register(reg, weight_kg="7")
    assert generated.cites_mark == f"XA {YY}/2/7"
    assert (typed.mark_serial, generated.mark_serial) == (1, 2)


def test_the_database_refuses_a_second_holder_of_a_serial(reg):
    register(reg, cites_mark="XA 24/8/12", weight_kg="12")
    other = register(reg, weight_kg="3", item_type=reg.scales)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        StockItem.objects.filter(pk=other.pk).update(
            cites_mark="XA 24/8/3",
            mark_series=marks.DEFAULT_PATTERN,
            mark_year=2024,
            mark_serial=8,
        )


# --- the same cases typed in a correction -------------------------------------------------


def test_the_mark_rules_hold_in_corrections(reg):
    register(reg, cites_mark="XA 24/1/12", weight_kg="12")
    item = register(reg, item_type=reg.cut_piece, weight_kg="0.5", length_outer_cm="10")
    assert item.cites_mark is None
    assert "future" in refused(correct, reg=reg, item=item, cites_mark=f"XA {NEXT_YY}/4/1")
    assert "is 1, not 9" in refused(correct, reg=reg, item=item, cites_mark=f"XA {YY}/4/9")
    assert "Serial 1 of 2024" in refused(correct, reg=reg, item=item, cites_mark="XA 24/01/1")
    correct(reg, item, cites_mark=f"xa {LAST_YY}/0004/3")
    item.refresh_from_db()
    assert item.cites_mark == f"XA {LAST_YY}/4/3" and item.mark_serial == 4
    assert item.mark_flag == MarkFlag.LEGACY_WEIGHT
    # The item keeps its own serial when the mark is typed again another way.
    correct(reg, item, cites_mark=f"XA{LAST_YY}/4/3", notes="seen")
    correct(reg, item, cites_mark=f"XA {YY}/4/1")
    item.refresh_from_db()
    assert (item.cites_mark, item.mark_flag) == (f"XA {YY}/4/1", "")


def test_a_correction_cannot_remove_a_required_mark(reg):
    tusk = register(reg, weight_kg="5")
    assert tusk.cites_mark
    assert "can't be removed" in refused(correct, reg=reg, item=tusk, cites_mark="")
    small = register(reg, item_type=reg.cut_piece, weight_kg="0.5", length_outer_cm="10")
    correct(reg, small, cites_mark="XA 24/77/1")
    correct(reg, small, cites_mark="")  # not required: may go
    small.refresh_from_db()
    assert small.cites_mark is None and small.mark_serial is None


def test_a_correction_that_makes_a_piece_markable_allocates_a_mark(reg):
    piece = register(reg, item_type=reg.cut_piece, weight_kg="2", length_outer_cm="15")
    assert piece.cites_mark is None
    correct(reg, piece, length_outer_cm="25")
    piece.refresh_from_db()
    assert piece.cites_mark == f"XA {YY}/{piece.mark_serial}/2"
    assert piece.changes.filter(field="cites_mark", new_value=piece.cites_mark).exists()
    other = register(reg, item_type=reg.cut_piece, weight_kg="0.4", length_outer_cm="5")
    correct(reg, other, item_type=reg.tusk)
    other.refresh_from_db()
    assert other.cites_mark and other.mark_serial != piece.mark_serial


def test_a_weight_correction_beyond_the_rounding_keeps_the_mark_and_flags_it(reg):
    tusk = register(reg, weight_kg="5")
    mark = tusk.cites_mark
    correct(reg, tusk, weight_kg="5.4")  # still 5 kg rounded: nothing to do
    tusk.refresh_from_db()
    assert (tusk.cites_mark, tusk.mark_flag) == (mark, "")
    correct(reg, tusk, weight_kg="4.2")
    tusk.refresh_from_db()
    assert (tusk.cites_mark, tusk.mark_flag) == (mark, MarkFlag.REMARK)
    correct(reg, tusk, weight_kg="4.9")  # weighed again: the mark is right
    tusk.refresh_from_db()
    assert tusk.mark_flag == ""


def test_a_heavy_cut_piece_needs_its_length(reg):
    with pytest.raises(ValidationError) as caught:
        register(reg, item_type=reg.cut_piece, weight_kg="1")
    assert "needs its length" in caught.value.message_dict["length_outer_cm"][0]
    light = register(reg, item_type=reg.cut_piece, weight_kg="0.9")
    assert light.cites_mark is None
    with pytest.raises(ValidationError):
        correct(reg, light, weight_kg="3")


# --- search ------------------------------------------------------------------------------


def test_search_finds_a_mark_however_it_is_typed(reg):
    item = register(reg, cites_mark="XA 24/1/12", weight_kg="12")
    register(reg, cites_mark="XA 24/10/12", weight_kg="12")
    for typed in ("XA 24/1/12", "xa24/01/12", "  xa 24/001/12 ", "XA 24/1/012"):
        found = filters.search(StockItem.objects.all(), typed)
        assert list(found) == [item], typed
    assert filters.search(StockItem.objects.all(), "XA 24/1").count() == 2


def test_a_decimal_comma_weight_is_read_as_a_number():
    parsed = marks.parse_mark("XA 24/1/14,500", pattern=marks.DEFAULT_PATTERN, country="XA")
    assert (parsed.weight, parsed.text) == (Decimal("14.5"), "XA 24/1/14.5")


# --- the migration that canonicalised the stored marks ------------------------------------


@pytest.mark.database_owner  # migrations: the database owner's work
def test_the_migration_canonicalises_marks_and_flags_collisions(reg, caplog):
    import logging

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    items = [register(reg, item_type=reg.scales, weight_kg="12") for _ in range(6)]
    executor = MigrationExecutor(connection)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor.migrate([("stock", "0008_itemtype_cites_class")])
    # What older versions accepted: one serial four times, spelt every way.
    typed = ["XA 24/01/12", "XA 24/1/12", "XA 24/1/13", "XA24/111/5", "XA 24/111/6", "XA 24/002/3"]
    with connection.cursor() as cursor:
        for item, mark in zip(items, typed, strict=True):
            cursor.execute(
                "UPDATE stock_stockitem SET cites_mark = %s WHERE id = %s", [mark, item.pk]
            )
    with caplog.at_level(logging.INFO, logger="stock.migrations"):
        MigrationExecutor(connection).migrate([("stock", "0009_item_mark_parts")])
    rows = {
        item.pk: (item.cites_mark, item.mark_serial, item.mark_flag)
        for item in StockItem.objects.filter(pk__in=[i.pk for i in items])
    }
    after = [rows[item.pk] for item in items]
    # The mark already canonical keeps the serial (then the first registered);
    # the others keep their text as typed, flagged for Marks to do.
    assert after == [
        ("XA 24/01/12", None, "collision"),
        ("XA 24/1/12", 1, ""),
        ("XA 24/1/13", None, "collision"),
        ("XA24/111/5", None, "collision"),
        ("XA 24/111/6", 111, ""),
        ("XA 24/2/3", 2, ""),
    ]
    log = "\n".join(r.getMessage() for r in caplog.records if r.name == "stock.migrations")
    assert "3 collisions flagged" in log and "XA24/111/5 of item" in log
