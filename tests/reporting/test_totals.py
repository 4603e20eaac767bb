"""The aggregates kept with each ledger entry (reporting.totals) read through
reporting.aggregates.Totals give exactly what the ledger replay
(reporting.figures.History, the reference) gives — after the hand-built
history and a long series of further operations: back-dated registrations,
corrections of type, source, mark, date received, weight and pieces,
transfers with discrepancies resolved every way, stock-takes, archives —
and a full rebuild from the ledger writes the same tables."""

import datetime
import random
from decimal import Decimal

import pytest
from django.core.management import call_command

from custody import services as custody
from custody.models import Discrepancy
from ledger import chain as ledger
from reporting.aggregates import FIRST_DAY, Totals, cover, figures_for
from reporting.figures import TRANSIT, History, ItemFilter, Measure, Scope
from reporting.models import ItemPosition, ItemTransition, MonthBalance, MovementTotal
from reporting.totals import month_balances_rebuild, rebuild
from stock import services as stock_services
from tests.custody.conftest import check, dispatch, draft, shown
from tests.reporting.conftest import at
from tests.stock.conftest import register

D = datetime.date
pytestmark = pytest.mark.django_db


def test_cover_splits_any_range_into_years_months_days():
    rng = random.Random(3)
    starts = [D(2023, 1, 1), D(2024, 2, 29), D(2025, 12, 31), D(2025, 3, 1)]
    for _ in range(300):
        start = rng.choice(starts) + datetime.timedelta(days=rng.randrange(-40, 40))
        end = start + datetime.timedelta(days=rng.randrange(-1, 900))
        days = set()
        for grain, first, last in cover(start, end):
            if grain == 1:
                days |= {
                    d
                    for y in range(first.year, last.year + 1)
                    for d in _days(D(y, 1, 1), D(y, 12, 31))
                }
            elif grain == 2:
                month = first
                while month <= last:
                    nxt = D(month.year + month.month // 12, month.month % 12 + 1, 1)
                    days |= set(_days(month, nxt - datetime.timedelta(days=1)))
                    month = nxt
            else:
                days |= set(_days(first, last))
        assert days == set(_days(start, end)), (start, end)
    # Everything before a day: whole years from the first day on, no gap.
    assert cover(FIRST_DAY, D(2026, 3, 14))[0] == (1, FIRST_DAY, D(2025, 1, 1))


def _days(first, last):
    day = first
    while day <= last:
        yield day
        day += datetime.timedelta(days=1)


# --- a long series of operations after the hand-built history --------------------------


@pytest.fixture
def long_history(history):
    reg = history.reg
    A, B, C = history.A, history.B, history.C
    with at(2026, 5, 10):
        E = register(
            reg,
            item_type=reg.scales,
            site=reg.site_y,
            actor=reg.manager_y,
            weight_kg="30.000",
            pieces=300,
            received_on=D(2025, 11, 20),
        )
        F = register(reg, weight_kg="8.000", source="natural_mortality")
        G = register(reg, item_type=reg.cut_piece, weight_kg="1.500", length_cm="25")
        H = register(reg, weight_kg="6.000", source="surrender")
        K = register(reg, weight_kg="4.000", received_on=D(2026, 1, 3))
    with at(2026, 5, 12):
        # Classification: the whole history moves.
        stock_services.item_correct(
            actor=reg.manager_y, item=E, changes={"source": "natural_mortality"}, reason="Typo"
        )
        stock_services.item_correct(
            # A cut piece of 1 kg or more needs its length (issue 12).
            actor=reg.manager_x,
            item=F,
            changes={"item_type": reg.cut_piece.pk, "length_cm": "15"},
            reason="Cut",
        )
        stock_services.item_correct(
            actor=reg.manager_y, item=E, changes={"pieces": 280}, reason="Re"
        )
        stock_services.item_correct(
            # A whole tusk's mark can't be removed (issue 12): it is replaced.
            actor=reg.manager_x,
            item=B,
            changes={"cites_mark": "XA 25/900/20"},
            reason="Mark was wrong",
        )
        stock_services.item_correct(
            actor=reg.manager_y, item=A, changes={"notes": "Chipped"}, reason="Remark"
        )
    with at(2026, 5, 15):
        stock_services.item_correct(
            actor=reg.manager_x, item=F, changes={"received_on": "2024-12-30"}, reason="Old file"
        )
    with at(2026, 6, 1, 21):  # 00:00 local on 2 June
        transfer = draft(reg, [F, G, H])
        dispatch(reg, transfer)
    with at(2026, 6, 3):
        custody.transfer_receive(
            actor=reg.manager_y,
            transfer=transfer,
            checks=[check(F, weight="8.500"), check(G, present=False), check(H, present=False)],
        )
    with at(2026, 6, 5):
        for item, resolution, weight in (
            (F, "accept_new_weight", None),
            (G, "mark_missing", None),
            (H, "found", "5.900"),
        ):
            custody.discrepancy_resolve(
                actor=reg.admin,
                discrepancy=Discrepancy.objects.get(item=item, resolved_at__isnull=True),
                resolution=resolution,
                note="Decided",
                weight_kg=weight,
            )
        # A weight corrected while missing: no change to the balance.
        stock_services.item_correct(
            actor=reg.manager_x, item=G, changes={"weight_kg": "1.400"}, reason="Record"
        )
    with at(2026, 7, 1):
        # Archive dated before the day it is recorded (an archive can't
        # precede the item's last custody event, 5 June: issue 12).
        stock_services.item_archive(
            actor=reg.manager_y,
            item=F,
            reason="lost_stolen",
            archived_on=D(2026, 6, 20),
            authority_reference="POL/7",
            incident_reference="OB 12/2026",
        )
        take = custody.stocktake_open(actor=reg.manager_x, site=reg.site_x)
        custody.stocktake_check(actor=reg.manager_x, stocktake=take, item=B, result="missing")
        custody.stocktake_sign_off(
            actor=reg.manager_x, stocktake=take, confirm_missing=shown(reg.manager_x, take)
        )
    with at(2026, 8, 1):
        take = custody.stocktake_open(actor=reg.manager_x, site=reg.site_x)
        custody.stocktake_check(actor=reg.manager_x, stocktake=take, item=B, result="found")
        custody.stocktake_check(actor=reg.manager_x, stocktake=take, item=K, result="found")
        custody.stocktake_sign_off(
            actor=reg.manager_x, stocktake=take, confirm_missing=shown(reg.manager_x, take)
        )
        stock_services.item_correct(
            actor=reg.manager_y, item=C, changes={"source": "surrender"}, reason="Court papers"
        )
        stock_services.item_correct(
            actor=reg.manager_x,
            item=K,
            changes={"item_type": reg.tusk.pk},
            reason="Whole after all",
        )
    return history


DAYS = [
    D(2024, 5, 31),
    D(2024, 6, 1),
    D(2024, 12, 31),
    D(2025, 2, 10),
    D(2025, 6, 15),
    D(2025, 12, 20),
    D(2025, 12, 31),
    D(2026, 1, 1),
    D(2026, 3, 1),
    D(2026, 4, 30),
    D(2026, 5, 20),
    D(2026, 6, 2),
    D(2026, 6, 5),
    D(2026, 7, 1),
    D(2026, 12, 31),
]
PERIODS = [
    (D(2024, 1, 1), D(2024, 12, 31)),
    (D(2025, 1, 1), D(2025, 12, 31)),
    (D(2026, 1, 1), D(2026, 12, 31)),
    (D(2025, 6, 15), D(2026, 6, 2)),
    (D(2026, 6, 2), D(2026, 6, 2)),
    (D(2025, 12, 31), D(2026, 1, 1)),
    (D(2020, 3, 1), D(2026, 5, 19)),
]
GROUPINGS = [(), ("site",), ("category",), ("item_type", "source"), ("site", "item_type", "source")]


def _summary(summary):
    return {
        key: (
            row.opening.as_tuple(),
            {line: m.as_tuple() for line, m in row.lines.items() if m},
            row.closing.as_tuple(),
        )
        for key, row in summary.rows.items()
    }


def _lines(rows):
    return [
        (t.item_id, t.sequence, t.day, side, holding, line) for t, side, holding, line, *_ in rows
    ]


def _series(data):
    return data["months"], {
        key: [m.as_tuple() for m in points] for key, points in data["series"].items() if any(points)
    }


def assert_same_figures(scope, item_filter=None):
    reference = History(scope=scope, item_filter=item_filter)
    totals = Totals(scope=scope, item_filter=item_filter)
    assert totals.cutoff == reference.cutoff
    longest_annex = 0
    for group_by in GROUPINGS:
        for start, end in PERIODS:
            assert _summary(totals.summary(start=start, end=end, group_by=group_by)) == _summary(
                reference.summary(start=start, end=end, group_by=group_by)
            ), (group_by, start, end)
    for day in DAYS:
        assert totals.holdings_at(day) == reference.holdings_at(day), day
        assert totals.missing_at(day) == reference.missing_at(day), day
        assert totals.missing_total_at(day) == reference.missing_total_at(day)
        for group_by in (("item_type", "source"), ("item_type",), ("site", "category")):
            assert totals.balances_at(day, group_by) == reference.balances_at(day, group_by)
        assert sorted(totals.marked_holdings_at(day)) == sorted(reference.marked_holdings_at(day))
        # The annex, streamed from the database in its order (the replay sorts in Python).
        annex, reference_annex = totals.annex_at(day), reference.annex_at(day)
        assert list(annex) == list(reference_annex), day
        assert len(annex) == len(reference_annex)
        assert annex.head(2) == list(reference_annex)[:2]
        longest_annex = max(longest_annex, len(annex))
    if scope.site_ids is None and item_filter is None:
        assert longest_annex >= 3  # an order to compare
    for start, end in PERIODS:
        assert _lines(totals.item_lines(start=start, end=end)) == _lines(
            reference.item_lines(start=start, end=end)
        )
        assert _lines(totals.largest_item_lines(start=start, end=end, limit=5)) == _lines(
            reference.largest_item_lines(start=start, end=end, limit=5)
        )
    for by in ("category", "site"):
        assert _series(
            totals.monthly_balances(first=D(2024, 4, 1), last=D(2026, 11, 27), by=by)
        ) == _series(reference.monthly_balances(first=D(2024, 4, 1), last=D(2026, 11, 27), by=by))


def test_aggregates_equal_the_replay_after_the_hand_built_history(history):
    assert_same_figures(Scope())
    assert_same_figures(Scope.of_user(history.reg.manager_x))


def test_aggregates_equal_the_replay_after_a_long_series(long_history):
    reg = long_history.reg
    assert_same_figures(Scope())
    assert_same_figures(Scope.of_user(reg.manager_y))
    assert_same_figures(Scope(frozenset({TRANSIT})))
    assert_same_figures(Scope(), ItemFilter(category_kinds=frozenset({"ivory"})))
    assert_same_figures(Scope(), ItemFilter(sources=frozenset({"natural_mortality"})))
    assert_same_figures(
        Scope.of_user(reg.manager_x), ItemFilter(item_type_ids=frozenset({reg.cut_piece.pk}))
    )


def test_corrected_classification_moves_the_whole_history(long_history):
    reg = long_history.reg
    totals = Totals(scope=Scope())
    added_2025 = totals.summary(start=D(2025, 1, 1), end=D(2025, 12, 31), group_by=("source",))
    # E: scales received 20 November 2025, source corrected in 2026 to
    # natural mortality: added in 2025 under its corrected source, with the
    # 300 pieces it had (its correction to 280 is a movement of 2026), with B.
    row = added_2025.rows[("natural_mortality",)]
    assert row.lines[("added", "natural_mortality")].as_tuple() == (2, 301, Decimal("50.000"))
    year_2026 = totals.summary(start=D(2026, 1, 1), end=D(2026, 12, 31), group_by=("source",))
    corrected = year_2026.rows[("natural_mortality",)].lines[("corrected", "")]
    assert corrected.pieces == -20
    # F: registered in 2026, then its date received corrected to 30 December
    # 2024 and its type to cut piece: held at the end of 2024 as a cut piece.
    held = totals.balances_at(D(2024, 12, 31), ("item_type",))
    assert held[(reg.cut_piece.pk,)][0].as_tuple() == (1, 1, Decimal("8.000"))


# rebuild_report_totals empties the tables with TRUNCATE: the database owner's work.
@pytest.mark.database_owner
def test_rebuild_from_the_ledger_writes_the_same_tables(long_history):
    def tables():
        return (
            set(ItemPosition.objects.values_list()),
            set(ItemTransition.objects.values_list()),
            {
                row[1:]
                for row in MovementTotal.objects.values_list()
                if any(row[-4:])  # rows whose movements cancelled out may remain
            },
        )

    incremental = tables()
    assert all(incremental)
    balances = _month_balances()
    assert balances
    counts = rebuild()
    assert tables() == incremental
    assert _month_balances() == balances
    assert counts["items"] == ItemPosition.objects.count()


# rebuild_report_totals empties the tables with TRUNCATE: the database owner's work.
@pytest.mark.database_owner
def test_rebuild_command_back_fills_a_country_and_reports_use_it(history, country_a, capsys):
    ItemPosition.objects.all().delete()
    ItemTransition.objects.all().delete()
    MovementTotal.objects.all().delete()
    # Without aggregates the reports fall back on the replay (slow, right).
    assert isinstance(figures_for(scope=Scope()), History)
    call_command("rebuild_report_totals", country=country_a.code)
    assert f"{country_a.code}:" in capsys.readouterr().out
    totals = figures_for(scope=Scope())
    assert isinstance(totals, Totals)
    assert totals.summary(start=D(2025, 1, 1), end=D(2025, 12, 31)).total().closing.as_tuple() == (
        4,
        4,
        Decimal("46.500"),
    )


def test_a_ledger_cut_off_is_answered_by_the_replay(history):
    assert isinstance(figures_for(scope=Scope(), cutoff=3), History)


def test_the_other_country_has_none_of_these_figures(history, country_b):
    from django_tenants.utils import schema_context

    with schema_context(country_b.schema_name):
        assert not ItemPosition.objects.exists()
        assert not MovementTotal.objects.exists()
        assert not MonthBalance.objects.exists()
        totals = Totals(scope=Scope())
        curves = totals.monthly_balances(first=D(2025, 1, 1), last=D(2026, 11, 27), by="site")
        assert curves["series"] == {}
        assert totals.summary(start=D(2025, 1, 1), end=D(2025, 12, 31)).rows == {}
        assert totals.holdings_at(D(2025, 12, 31)) == {}


def test_a_line_whose_movements_cancel_out_is_no_movement_in_either_engine(history):
    # The two engines disagreed here: the replay kept such a line as a line of
    # zeros, the aggregates left it out. Left out is right: the aggregates
    # can't tell movements that cancelled out from none (their rows sum them,
    # and a rebuild and the incremental path keep different zero rows), and a
    # document must read the same whichever engine computed it.
    reg, B = history.reg, history.B
    with at(2026, 9, 1):
        stock_services.item_correct(
            actor=reg.manager_x, item=B, changes={"weight_kg": "21.000"}, reason="Scale"
        )
    with at(2026, 9, 2):
        stock_services.item_correct(
            actor=reg.manager_x, item=B, changes={"weight_kg": "19.500"}, reason="Scale was off"
        )
    for engine in (History(scope=Scope()), Totals(scope=Scope())):
        september = engine.summary(start=D(2026, 9, 1), end=D(2026, 9, 30), group_by=("site",))
        row = september.rows[(reg.site_x.pk,)]
        assert row.lines == {}, type(engine)
        assert row.opening.as_tuple() == row.closing.as_tuple() == (1, 1, Decimal("19.500"))
        first_day = engine.summary(start=D(2026, 9, 1), end=D(2026, 9, 1))
        assert first_day.total().lines == {("corrected", ""): Measure(0, 0, Decimal("1.500"))}


def test_a_batch_of_entries_moves_the_aggregates_as_one_at_a_time(long_history):
    # ledger.chain.batched (the ODK sync) tells the aggregates about a whole
    # batch at once (reporting.totals.entries_appended).
    reg = long_history.reg
    with at(2026, 9, 1):
        with ledger.batched():
            # New items, one entry each: written together.
            register(reg, weight_kg="9.000", received_on=D(2026, 8, 20))
            register(
                reg,
                item_type=reg.scales,
                site=reg.site_y,
                actor=reg.manager_y,
                weight_kg="3.000",
                pieces=40,
                received_on=D(2025, 3, 3),
            )
            register(reg, item_type=reg.cut_piece, weight_kg="1.200", length_cm="12")
            # A reclassified item in the same batch: replayed on its own.
            stock_services.item_correct(
                actor=reg.manager_y,
                item=long_history.A,
                changes={"source": "surrender"},
                reason="Papers",
            )
    with at(2026, 9, 2):
        with ledger.batched():
            # Two entries of one item in a batch: entry by entry.
            M = register(reg, weight_kg="5.000", received_on=D(2026, 1, 5))
            stock_services.item_correct(
                actor=reg.manager_x, item=M, changes={"weight_kg": "4.800"}, reason="Re"
            )
            register(reg, weight_kg="6.000")
    assert_same_figures(Scope())
    assert_same_figures(Scope.of_user(reg.manager_y))
    assert_same_figures(Scope(), ItemFilter(sources=frozenset({"surrender"})))


# --- the dashboard's month-end balances (MonthBalance) ---------------------------------


def _month_balances():
    return set(
        MonthBalance.objects.values_list(
            "month", "place_id", "category_id", "items", "pieces", "weight_kg"
        )
    )


def test_month_balances_kept_entry_by_entry_equal_the_sums_of_the_movements(long_history):
    # Back-dated registrations, corrections of type and date received, transfers:
    # each entry moved the balances of its month and of every later month.
    kept = _month_balances()
    month_balances_rebuild()
    assert _month_balances() == kept
    # Dense: every place and category has a row for every month from its
    # first movement to the latest month booked (the curves read a range).
    latest = max(month for month, *_rest in kept)
    for place, category in {(p, c) for _m, p, c, *_r in kept}:
        months = sorted(m for m, p, c, *_r in kept if (p, c) == (place, category))
        assert months[-1] == latest
        assert (
            len(months) == (latest.year - months[0].year) * 12 + latest.month - months[0].month + 1
        )


def test_the_curves_read_the_month_balances_not_the_movements(long_history):
    reg = long_history.reg
    series = Totals(scope=Scope()).monthly_balances(
        first=D(2024, 4, 1), last=D(2026, 11, 27), by="category"
    )
    # Were the rows of MovementTotal summed instead, emptying them would change nothing.
    MovementTotal.objects.all().delete()
    assert _series(
        Totals(scope=Scope()).monthly_balances(
            first=D(2024, 4, 1), last=D(2026, 11, 27), by="category"
        )
    ) == _series(series)
    assert reg.ivory.pk in series["series"]


def test_a_store_managers_curves_show_their_store_only(long_history):
    reg = long_history.reg
    scope = Scope.of_user(reg.manager_x)
    by_site = Totals(scope=scope).monthly_balances(
        first=D(2024, 4, 1), last=D(2026, 11, 27), by="site"
    )
    assert set(by_site["series"]) == {reg.site_x.pk}
    # The other store's weight is in no category curve of theirs.
    everyone = Totals(scope=Scope()).monthly_balances(
        first=D(2024, 4, 1), last=D(2026, 11, 27), by="category"
    )
    theirs = Totals(scope=scope).monthly_balances(
        first=D(2024, 4, 1), last=D(2026, 11, 27), by="category"
    )
    assert _series(theirs) != _series(everyone)
    assert _series(theirs) == _series(
        History(scope=scope).monthly_balances(
            first=D(2024, 4, 1), last=D(2026, 11, 27), by="category"
        )
    )


def test_a_type_moved_to_another_category_moves_its_curve(long_history):
    reg = long_history.reg
    reg.scales.category = reg.ivory
    reg.scales.save(update_fields=["category"])
    assert _series(
        Totals(scope=Scope()).monthly_balances(
            first=D(2024, 4, 1), last=D(2026, 11, 27), by="category"
        )
    ) == _series(
        History(scope=Scope()).monthly_balances(
            first=D(2024, 4, 1), last=D(2026, 11, 27), by="category"
        )
    )
