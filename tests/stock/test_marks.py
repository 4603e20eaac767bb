"""CITES marks: format, validation against the country's pattern, uniqueness,
and serials allocated without duplicates or gaps under concurrent registrations."""

import datetime
import threading
import uuid
from decimal import Decimal

import pgtrigger
import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.roles import STORE_MANAGER
from stock import marks, services
from stock.marks import pattern_of
from stock.models import ItemNumberSerial, ItemPhoto, MarkSerial, StockItem, StockTotal
from tests.database_roles import database_owner
from tests.factories import ItemCategoryFactory, ItemTypeFactory, SiteFactory, make_user
from tests.stock.conftest import register

YEAR = datetime.date.today().year
YY = f"{YEAR % 100:02d}"


@pytest.mark.parametrize(
    ("pattern", "country", "serial", "weight", "expected"),
    [
        (marks.DEFAULT_PATTERN, "XD", 127, Decimal("14.2"), f"XD {YY}/127/14"),
        (marks.DEFAULT_PATTERN, "XD", 3, Decimal("0.499"), f"XD {YY}/3/0"),
        ("ZA/{serial}/{yyyy}/{weight}", "ZA", 311, Decimal("4.5"), f"ZA/311/{YEAR}/5"),
        ("{country}-{yy}-{serial:5}-{weight}", "KE", 42, Decimal("1"), f"KE-{YY}-00042-1"),
    ],
)
def test_format_and_validate_round_trip(pattern, country, serial, weight, expected):
    mark = marks.format_mark(pattern, country=country, year=YEAR, serial=serial, weight_kg=weight)
    assert mark == expected
    assert marks.pattern_regex(pattern, country=country).match(mark)


def test_typed_marks_are_normalised_and_checked_against_the_pattern():
    regex = marks.pattern_regex(marks.DEFAULT_PATTERN, country="XA")
    assert regex.match(marks.normalise_mark("  xa   26/127/14 "))
    assert regex.match(marks.normalise_mark("XA 00/5/14.5"))
    for bad in ("XB 26/127/14", "XA 2026/127/14", "XA 26-127-14", "XA 26/ABC/14", "XA 26/1/"):
        assert not regex.match(marks.normalise_mark(bad)), bad


@pytest.mark.django_db
def test_categories_sharing_a_pattern_share_one_serial_series(in_country_a):
    """Two categories with the same mark format must never produce the same mark."""
    first = ItemCategoryFactory(mark_pattern=marks.DEFAULT_PATTERN)
    second = ItemCategoryFactory(mark_pattern=marks.DEFAULT_PATTERN)
    with transaction.atomic():
        a = marks.allocate_mark(category=first, weight_kg=Decimal("10"), year=2001)
        b = marks.allocate_mark(category=second, weight_kg=Decimal("10"), year=2001)
    assert (a.serial, b.serial) == (1, 2)
    assert a.mark != b.mark


def test_mark_rules():
    class T:
        marking, is_whole, cites_class = "cites_ivory", False, ""

    whole, cut, always, none = T(), T(), T(), T()
    whole.is_whole = True
    always.marking, none.marking = "always", "none"
    assert marks.mark_required(item_type=whole, weight_kg=Decimal("0.2"), length_cm=None)
    assert marks.mark_required(item_type=cut, weight_kg=Decimal("1"), length_cm=Decimal("20"))
    assert not marks.mark_required(item_type=cut, weight_kg=Decimal("0.999"), length_cm=50)
    assert not marks.mark_required(item_type=cut, weight_kg=Decimal("9"), length_cm=None)
    assert marks.mark_required(item_type=always, weight_kg=Decimal("0.1"))
    assert not marks.mark_required(item_type=none, weight_kg=Decimal("100"), length_cm=100)


@pytest.mark.django_db
def test_typed_mark_is_kept_validated_and_unique(reg):
    item = register(reg, cites_mark="xa  19/88/12")
    assert item.cites_mark == "XA 19/88/12"  # kept, not rewritten, only normalised
    assert not MarkSerial.objects.exists()  # no serial consumed
    with pytest.raises(ValidationError) as exc:
        register(reg, cites_mark="XA 19/88/12")
    assert "already" in exc.value.message_dict["cites_mark"][0]
    with pytest.raises(ValidationError) as exc:
        register(reg, cites_mark="KE 19/88/12")  # another country's code
    assert "cites_mark" in exc.value.message_dict
    assert StockItem.objects.count() == 1


@pytest.mark.django_db
def test_category_pattern_is_used_for_generation_and_validation(reg):
    reg.ivory.mark_pattern = "{country}/{serial}/{yyyy}/{weight}"
    reg.ivory.save()
    item = register(reg, weight_kg="3.7")
    assert item.cites_mark == f"XA/1/{YEAR}/4"
    with pytest.raises(ValidationError):
        register(reg, cites_mark=f"XA {YY}/2/4")
    # A mark of this year carries the item's weight (3.7 kg: 4).
    item = register(reg, cites_mark=f"XA/9/{YEAR}/4", weight_kg="3.7")
    assert item.cites_mark == f"XA/9/{YEAR}/4"


@pytest.mark.django_db
def test_generation_skips_a_serial_already_typed_in(reg):
    register(reg, cites_mark=f"XA {YY}/1/5", weight_kg="5")
    assert register(reg, weight_kg="5").cites_mark == f"XA {YY}/2/5"


@pytest.mark.django_db
def test_failed_registration_gives_its_serial_back(reg):
    with pytest.raises(ValidationError):
        register(reg, weight_kg="5", photos=[b"not an image"])
    assert register(reg, weight_kg="5").cites_mark == f"XA {YY}/1/5"


@pytest.fixture
def committed_register(country_a):
    """Committed rows in XA for a transaction=True test, removed afterwards
    (the public-schema flush at the end of such a test does not reach XA)."""
    suffix = uuid.uuid4().hex[:8]
    with schema_context(country_a.schema_name):
        counter = ItemNumberSerial.objects.filter(year=YEAR).first()
        before = counter.last_serial if counter else None
        site = SiteFactory(code=f"conc-{suffix}")
        category = ItemCategoryFactory(code=f"conc-{suffix}")
        item_type = ItemTypeFactory(
            code=f"conc-tusk-{suffix}", category=category, marking="cites_ivory", whole=True
        )
        user = make_user(role=STORE_MANAGER, sites=[site])
    yield site, item_type, user
    # Removing never-delete rows: the database owner's work (tests/database_roles.py).
    with (
        database_owner(),
        schema_context(country_a.schema_name),
        pgtrigger.ignore(
            "stock.StockItem:stockitem_no_delete", "stock.ItemPhoto:itemphoto_no_delete"
        ),
    ):
        ItemPhoto.objects.filter(item__site=site).delete()
        StockTotal.objects.filter(site=site).delete()
        StockItem.objects.filter(site=site).delete()
        MarkSerial.objects.filter(series=pattern_of(category)).delete()
        if before is None:
            ItemNumberSerial.objects.filter(year=YEAR).delete()
        else:
            ItemNumberSerial.objects.filter(year=YEAR).update(last_serial=before)
        user.delete()
        item_type.delete()
        category.delete()
        site.delete()


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_get_distinct_consecutive_serials(country_a, committed_register):
    site, item_type, user = committed_register
    workers = 8
    barrier = threading.Barrier(workers)
    marks_made, numbers, failures = [], [], []

    def work():
        # Each thread has its own database connection (Django's are per thread).
        try:
            with schema_context(country_a.schema_name):
                actor = User.objects.get(pk=user.pk)
                barrier.wait(timeout=30)
                item = services.item_register(
                    actor=actor, site=site, item_type=item_type, data={"weight_kg": "7.2"}
                )
                marks_made.append(item.cites_mark)
                numbers.append(item.sms_number)
        except Exception as exc:  # reported below, with the thread's error
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    serials = sorted(int(mark.split("/")[1]) for mark in marks_made)
    assert serials == list(range(1, workers + 1))
    assert all(
        mark == f"XA {YY}/{serial}/7"
        for mark, serial in zip(
            sorted(marks_made, key=lambda m: int(m.split("/")[1])), serials, strict=True
        )
    )
    sequence = sorted(int(number.rsplit("-", 1)[1]) for number in numbers)
    assert sequence == list(range(sequence[0], sequence[0] + workers))
    with schema_context(country_a.schema_name):
        total = StockTotal.objects.get(site=site, item_type=item_type, status="in_stock")
        assert (total.items, total.weight_kg) == (workers, Decimal("7.2") * workers)
