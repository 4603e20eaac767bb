"""Registration, corrections, archive, custom fields and running totals."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.http import Http404

from stock import services
from stock.models import (
    ArchiveRecord,
    CustomFieldDefinition,
    FieldDefinitionChange,
    ItemChange,
    StockItem,
    StockTotal,
)
from tests.stock.conftest import register

pytestmark = pytest.mark.django_db
TOMORROW = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()


def nothing_saved():
    return not StockItem.objects.exists() and not StockTotal.objects.exists()


def test_register_allocates_number_mark_and_totals(reg):
    item = register(reg, weight_kg="13.5")
    year = datetime.date.today().year
    assert item.sms_number == f"XA-{year}-000001"
    assert item.cites_mark == f"XA {year % 100:02d}/1/14"  # 13.5 kg rounds half up
    assert item.status == StockItem.Status.IN_STOCK
    assert item.weight_kg == Decimal("13.500")
    second = register(reg, weight_kg="2")
    assert second.sms_number == f"XA-{year}-000002"
    assert second.cites_mark == f"XA {year % 100:02d}/2/2"
    total = StockTotal.objects.get(site=reg.site_x, item_type=reg.tusk, status="in_stock")
    assert (total.items, total.pieces, total.weight_kg) == (2, 2, Decimal("15.500"))


def test_cut_piece_is_marked_only_from_20_cm_and_1_kg(reg):
    small = register(reg, item_type=reg.cut_piece, weight_kg="0.900", length_outer_cm="25")
    short = register(reg, item_type=reg.cut_piece, weight_kg="3", length_outer_cm="19.9")
    big = register(reg, item_type=reg.cut_piece, weight_kg="1.000", length_outer_cm="20")
    assert small.cites_mark is None
    assert short.cites_mark is None
    assert big.cites_mark.endswith("/1/1")


def test_lot_needs_pieces_and_bags(reg):
    with pytest.raises(ValidationError) as exc:
        register(reg, item_type=reg.scales, pieces="", bags="")
    assert set(exc.value.message_dict) == {"pieces", "bags"}
    assert nothing_saved()
    lot = register(reg, item_type=reg.scales, pieces=1200, bags=3, weight_kg="45.250")
    assert (lot.pieces, lot.bags, lot.cites_mark) == (1200, 3, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weight_kg", "0"),
        ("weight_kg", "-1"),
        ("weight_kg", "1.2345"),
        ("weight_kg", "heavy"),
        ("weight_kg", ""),
        ("pieces", "2"),
        ("bags", "3"),
        ("source", "bought"),
        ("legal_status", "mine"),
        ("side", "X"),
        ("horn_position", "middle"),
        ("country_of_origin", "Kenya"),
        ("country_of_seizure", "1A"),
        ("received_on", TOMORROW),
        ("received_on", "31/12/2024"),
        ("acquired_on", TOMORROW),
        ("length_outer_cm", "-3"),
        ("dna_weight_removed_g", "0"),
        ("colour", "white"),
    ],
)
def test_each_bad_field_is_named_and_nothing_is_saved(reg, field, value):
    with pytest.raises(ValidationError) as exc:
        register(reg, **{field: value})
    assert field in exc.value.message_dict
    assert all(message for message in exc.value.message_dict[field])
    assert nothing_saved()


def test_acquired_after_received_is_refused(reg):
    with pytest.raises(ValidationError) as exc:
        register(reg, acquired_on="2025-03-02", received_on="2025-03-01")
    assert "acquired_on" in exc.value.message_dict
    assert nothing_saved()


def test_iso_codes_are_upper_cased(reg):
    item = register(reg, country_of_origin="ke", country_of_seizure=" tz ")
    assert (item.country_of_origin, item.country_of_seizure) == ("KE", "TZ")


def test_store_manager_cannot_register_at_another_site(reg):
    with pytest.raises(ValidationError) as exc:
        register(reg, site=reg.site_y, actor=reg.manager_x)
    assert "site" in exc.value.message_dict
    assert nothing_saved()


def test_hq_officer_cannot_register(reg):
    with pytest.raises(ValidationError) as exc:
        register(reg, actor=reg.hq)
    assert "site" in exc.value.message_dict
    assert nothing_saved()


# --- custom values ------------------------------------------------------------------


@pytest.fixture
def fields(reg):
    tusk_only = services.custom_field_save(
        actor=reg.admin,
        definition=None,
        data={
            "key": "seal",
            "labels": {"en": "Seal number", "fr": "Numéro de scellé"},
            "field_type": "integer",
            "required": True,
            "applies_to": [reg.tusk],
        },
    )
    condition = services.custom_field_save(
        actor=reg.admin,
        definition=None,
        data={
            "key": "condition",
            "labels": {"en": "Condition"},
            "field_type": "choice",
            "choices": [{"value": "good"}, {"value": "cracked"}],
        },
    )
    return tusk_only, condition


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"condition": "good"}, "custom_seal"),  # required, missing
        ({"seal": "12.5"}, "custom_seal"),  # not a whole number
        ({"seal": 4, "condition": "broken"}, "custom_condition"),  # not a choice
        ({"seal": 4, "unknown": "x"}, "custom_unknown"),  # no such field
    ],
)
def test_bad_custom_values_are_named_and_nothing_saved(reg, fields, values, key):
    with pytest.raises(ValidationError) as exc:
        register(reg, custom_values=values)
    assert key in exc.value.message_dict
    assert nothing_saved()


def test_custom_values_apply_per_type_and_survive_deactivation(reg, fields):
    seal, condition = fields
    item = register(reg, custom_values={"seal": "41", "condition": "cracked"})
    assert item.custom_values == {"seal": 41, "condition": "cracked"}
    # The seal field only applies to whole tusks: a lot needs no seal.
    lot = register(reg, item_type=reg.scales, custom_values={"condition": "good"})
    assert lot.custom_values == {"condition": "good"}

    services.custom_field_deactivate(actor=reg.admin, definition=condition)
    item.refresh_from_db()
    assert item.custom_values["condition"] == "cracked"  # still readable
    with pytest.raises(ValidationError) as exc:
        register(reg, custom_values={"seal": 1, "condition": "good"})
    assert "custom_condition" in exc.value.message_dict
    # Correcting another field keeps the old value of the inactive field.
    services.item_correct(
        actor=reg.manager_x, item=item, changes={"custom_values": {"seal": 42}}, reason="typo"
    )
    item.refresh_from_db()
    assert item.custom_values == {"seal": 42, "condition": "cracked"}
    change = ItemChange.objects.get(item=item)
    assert (change.field, change.old_value, change.new_value) == ("custom_values.seal", 41, 42)


def test_definition_changes_are_logged_with_before_and_after(reg, fields):
    seal, _condition = fields
    services.custom_field_save(
        actor=reg.admin, definition=seal, data={"labels": {"en": "Seal no."}, "required": False}
    )
    services.custom_field_deactivate(actor=reg.admin, definition=seal)
    log = list(FieldDefinitionChange.objects.filter(definition=seal).order_by("id"))
    assert [entry.action for entry in log] == ["created", "updated", "deactivated"]
    assert log[1].before["labels"] == {"en": "Seal number", "fr": "Numéro de scellé"}
    assert log[1].after["labels"] == {"en": "Seal no."}
    assert log[1].after["required"] is False
    assert (log[2].before["active"], log[2].after["active"]) == (True, False)
    assert all(entry.changed_by == reg.admin for entry in log)


def test_only_administrators_manage_fields_and_key_is_fixed(reg, fields):
    seal, _condition = fields
    with pytest.raises(PermissionDenied):
        services.custom_field_deactivate(actor=reg.manager_x, definition=seal)
    with pytest.raises(ValidationError) as exc:
        services.custom_field_save(actor=reg.admin, definition=seal, data={"key": "other"})
    assert "key" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.custom_field_save(
            actor=reg.admin,
            definition=None,
            data={"key": "grade", "labels": {"en": "Grade"}, "field_type": "choice"},
        )
    assert "choices" in exc.value.message_dict
    assert not CustomFieldDefinition.objects.filter(key="grade").exists()


def test_a_one_store_administrator_cannot_change_the_countrys_fields(reg, fields):
    """Custom fields apply to every store's items: an administrator of one
    store neither adds, changes nor deactivates them (pen test of 30 Nov:
    north's administrator deactivated a field of the whole country)."""
    from accounts.roles import SMS_ADMINISTRATOR
    from tests.factories import make_user

    seal, _condition = fields
    one_store = make_user(role=SMS_ADMINISTRATOR, sites=[reg.site_x])
    with pytest.raises(ValidationError):
        services.custom_field_deactivate(actor=one_store, definition=seal)
    with pytest.raises(ValidationError):
        services.custom_field_save(
            actor=one_store,
            definition=seal,
            data={
                "key": "seal",
                "labels": {"en": "Seal number", "fr": "Numéro de scellé"},
                "field_type": "integer",
                "required": False,
                "applies_to": [reg.tusk],
            },
        )
    with pytest.raises(ValidationError):
        services.custom_field_save(
            actor=one_store,
            definition=None,
            data={"key": "grade", "labels": {"en": "Grade"}, "field_type": "text"},
        )
    seal.refresh_from_db()
    assert seal.active and seal.required
    assert not CustomFieldDefinition.objects.filter(key="grade").exists()


# --- corrections ----------------------------------------------------------------------


def test_correction_records_each_changed_field(reg):
    item = register(reg, weight_kg="10.000", species="Loxodonta africana")
    changes = services.item_correct(
        actor=reg.manager_x,
        item=item,
        changes={"weight_kg": "9.750", "species": "Loxodonta africana", "side": "L"},
        reason="Re-weighed after drying",
    )
    assert {(c.field, c.old_value, c.new_value) for c in changes} == {
        ("weight_kg", "10.000", "9.750"),
        ("side", "", "L"),
    }
    assert all(c.changed_by == reg.manager_x and c.reason for c in changes)
    item.refresh_from_db()
    assert item.weight_kg == Decimal("9.750")
    total = StockTotal.objects.get(site=reg.site_x, item_type=reg.tusk, status="in_stock")
    assert total.weight_kg == Decimal("9.750")


def test_correction_needs_a_reason_and_valid_values(reg):
    item = register(reg)
    with pytest.raises(ValidationError) as exc:
        services.item_correct(
            actor=reg.manager_x, item=item, changes={"weight_kg": "-2"}, reason=" "
        )
    assert set(exc.value.message_dict) == {"reason", "weight_kg"}
    item.refresh_from_db()
    assert item.weight_kg == Decimal("12.500")
    assert not ItemChange.objects.exists()


@pytest.mark.parametrize("field", ["site", "status", "sms_number"])
def test_site_status_and_number_are_not_corrected(reg, field):
    item = register(reg)
    value = {"site": reg.site_y, "status": "missing", "sms_number": "XA-1"}[field]
    with pytest.raises(ValidationError) as exc:
        services.item_correct(actor=reg.manager_x, item=item, changes={field: value}, reason="x")
    assert field in exc.value.message_dict


def test_other_site_manager_gets_404_when_correcting(reg):
    item = register(reg)
    with pytest.raises(Http404):
        services.item_correct(
            actor=reg.manager_y, item=item, changes={"weight_kg": "1"}, reason="x"
        )
    with pytest.raises(PermissionDenied):
        services.item_correct(actor=reg.hq, item=item, changes={"weight_kg": "1"}, reason="x")
    item.refresh_from_db()
    assert item.weight_kg == Decimal("12.500")


# --- archive ---------------------------------------------------------------------------


def archive(reg, item, **kwargs):
    values = {
        "reason": "destroyed",
        "archived_on": datetime.date.today(),
        "authority_reference": "Ministerial order 7/2026",
        "destruction_method": "Incineration",
        "witnesses": "J. Banda; M. Phiri",
    }
    values.update(kwargs)
    return services.item_archive(actor=reg.manager_x, item=item, **values)


def test_archive_takes_the_item_out_of_stock_totals(reg):
    item = register(reg, weight_kg="5")
    keep = register(reg, weight_kg="7")
    record = archive(reg, item)
    item.refresh_from_db()
    assert item.status == StockItem.Status.ARCHIVED
    assert record.archived_by == reg.manager_x
    in_stock = StockTotal.objects.get(site=reg.site_x, item_type=reg.tusk, status="in_stock")
    assert (in_stock.items, in_stock.weight_kg) == (1, keep.weight_kg)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"destruction_method": ""}, "destruction_method"),
        ({"witnesses": ""}, "witnesses"),
        ({"reason": "lost_stolen", "incident_reference": ""}, "incident_reference"),
        ({"reason": "sold"}, "reason"),
        ({"authority_reference": ""}, "authority_reference"),
        ({"archived_on": datetime.date.today() + datetime.timedelta(days=1)}, "archived_on"),
    ],
)
def test_archive_requires_its_details(reg, kwargs, field):
    item = register(reg)
    with pytest.raises(ValidationError) as exc:
        archive(reg, item, **kwargs)
    assert field in exc.value.message_dict
    item.refresh_from_db()
    assert item.status == StockItem.Status.IN_STOCK
    assert not ArchiveRecord.objects.exists()


def test_archived_item_cannot_be_archived_again_or_corrected(reg):
    item = register(reg)
    archive(reg, item, reason="lost_stolen", incident_reference="Police OB 44/2026")
    with pytest.raises(ValidationError) as exc:
        archive(reg, item)
    assert NON_FIELD_ERRORS in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.item_correct(actor=reg.manager_x, item=item, changes={"notes": "x"}, reason="y")
    assert "archived" in exc.value.message_dict[NON_FIELD_ERRORS][0]


def test_other_site_manager_cannot_archive(reg):
    item = register(reg)
    with pytest.raises(Http404):
        services.item_archive(
            actor=reg.manager_y,
            item=item,
            reason="deteriorated",
            archived_on=datetime.date.today(),
            authority_reference="x",
        )
    item.refresh_from_db()
    assert item.status == StockItem.Status.IN_STOCK


# --- totals ------------------------------------------------------------------------------


def test_stock_totals_match_the_items_after_a_series_of_operations(reg):
    a = register(reg, weight_kg="10")
    b = register(reg, weight_kg="3.333", item_type=reg.cut_piece, length_outer_cm="15")
    register(reg, item_type=reg.scales, pieces=300, bags=2, weight_kg="20.5")
    d = register(reg, site=reg.site_y, actor=reg.manager_y, weight_kg="8")
    services.item_correct(actor=reg.manager_x, item=a, changes={"weight_kg": "9.1"}, reason="r")
    services.item_correct(
        actor=reg.manager_x, item=b, changes={"item_type": reg.tusk.pk}, reason="was whole"
    )
    archive(reg, a)
    services.item_correct(actor=reg.manager_y, item=d, changes={"weight_kg": "8.002"}, reason="r")

    expected = {
        (row["site"], row["item_type"], row["status"]): (row["n"], row["p"], row["w"])
        for row in StockItem.objects.values("site", "item_type", "status").annotate(
            n=Count("id"), p=Sum("pieces"), w=Sum("weight_kg")
        )
    }
    actual = {
        (t.site_id, t.item_type_id, t.status): (t.items, t.pieces, t.weight_kg)
        for t in StockTotal.objects.filter(items__gt=0)
    }
    assert actual == expected
    assert StockTotal.objects.filter(items=0).exclude(pieces=0, weight_kg=0).count() == 0
