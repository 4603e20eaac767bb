"""The ledger replay (reporting.figures) against the hand-built history."""

import datetime
from decimal import Decimal

import pytest

from reporting.figures import (
    ADDED,
    CORRECTED,
    FOUND,
    MISSING,
    REMOVED,
    TRANSFER_IN,
    TRANSFER_OUT,
    TRANSIT,
    History,
    ItemFilter,
    Scope,
)

D = datetime.date
pytestmark = pytest.mark.django_db


def kg(value):
    return Decimal(value)


def test_2025_whole_country(history):
    result = History(scope=Scope()).summary(start=D(2025, 1, 1), end=D(2025, 12, 31))
    total = result.total()
    assert total.opening.as_tuple() == (1, 1, kg("15.000"))  # D, received back in 2024
    assert total.lines[(ADDED, "seizure")].as_tuple() == (3, 502, kg("62.000"))
    assert total.lines[(ADDED, "natural_mortality")].as_tuple() == (1, 1, kg("20.000"))
    # A: X -> transit -> Y; C: X -> transit (received in 2026, local time).
    assert total.lines[(TRANSFER_IN, "")].as_tuple() == (3, 3, kg("22.000"))
    assert total.lines[(TRANSFER_OUT, "")].as_tuple() == (-3, -3, kg("-22.000"))
    assert total.lines[(CORRECTED, "")].as_tuple() == (0, 0, kg("-0.500"))
    # S destroyed on 20 December 2025, recorded in January 2026.
    assert total.lines[(REMOVED, "destroyed")].as_tuple() == (-1, -500, kg("-50.000"))
    assert total.closing.as_tuple() == (4, 4, kg("46.500"))


def test_2025_by_site_puts_c_in_transit_at_local_year_end(history):
    reg = history.reg
    result = History(scope=Scope()).summary(
        start=D(2025, 1, 1), end=D(2025, 12, 31), group_by=("site",)
    )
    closing = {key[0]: row.closing.as_tuple() for key, row in result.rows.items()}
    assert closing == {
        reg.site_x.pk: (1, 1, kg("19.500")),
        reg.site_y.pk: (2, 2, kg("25.000")),
        TRANSIT: (1, 1, kg("2.000")),
    }


def test_2026_to_date(history):
    result = History(scope=Scope()).summary(start=D(2026, 1, 1), end=D(2026, 11, 27))
    total = result.total()
    assert total.opening.as_tuple() == (4, 4, kg("46.500"))
    assert total.lines[(REMOVED, "education_display")].as_tuple() == (-1, -1, kg("-15.000"))
    assert total.lines[(CORRECTED, "")].as_tuple() == (0, 0, kg("0.500"))
    assert total.lines[(MISSING, "")].as_tuple() == (-1, -1, kg("-2.000"))
    assert total.lines[(FOUND, "")].as_tuple() == (1, 1, kg("2.000"))
    assert total.closing.as_tuple() == (3, 3, kg("32.000"))


def test_years_chain_and_identity_holds_per_row(history):
    history_ = History(scope=Scope())
    years = history_.summaries(
        periods=[(D(y, 1, 1), D(y, 12, 31)) for y in (2024, 2025, 2026)],
        group_by=("site", "item_type", "source"),
    )
    for before, after in zip(years, years[1:], strict=False):
        assert before.total().closing.as_tuple() == after.total().opening.as_tuple()
    for summary in years:
        for row in summary.rows.values():
            expected = row.opening.copy()
            expected.add(row.movements())
            assert expected.as_tuple() == row.closing.as_tuple()


def test_scope_of_site_x_sees_only_x(history):
    reg = history.reg
    result = History(scope=Scope.of_user(reg.manager_x)).summary(
        start=D(2025, 1, 1), end=D(2025, 12, 31), group_by=("site",)
    )
    assert set(result.rows) == {(reg.site_x.pk,)}
    row = result.rows[(reg.site_x.pk,)]
    assert row.closing.as_tuple() == (1, 1, kg("19.500"))
    assert row.lines[(TRANSFER_OUT, "")].as_tuple() == (-2, -2, kg("-12.000"))


def test_category_filter_and_cutoff_reproduce_a_past_answer(history):
    reg = history.reg
    ivory = ItemFilter(category_ids=frozenset({reg.ivory.pk}))
    now = History(scope=Scope(), item_filter=ivory)
    assert {now.items[i].item_type_id for i in now.items} == {reg.tusk.pk, reg.cut_piece.pk}
    # The figures as known before A's 2026 correction (cut-off) do not change
    # when computed again later.
    from ledger.models import LedgerEntry

    before_fix = (
        LedgerEntry.objects.filter(item_id=history.A.pk, event="correction")
        .values_list("sequence", flat=True)
        .get()
    ) - 1
    old = History(scope=Scope(), item_filter=ivory, cutoff=before_fix)
    closing = old.summary(start=D(2026, 1, 1), end=D(2026, 12, 31)).total().closing
    assert closing.weight_kg == kg("31.500")  # A still 10 kg, D archived, C found
