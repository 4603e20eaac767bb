"""Reporting fixtures: a hand-built history in country XA with known answers.

Built through the real services (stock.services, custody.services) with the
clock moved by time-machine, so the ledger holds what it would hold had
these things happened on those days. The country's time zone is
Africa/Nairobi (UTC+3): a receipt at 22:00 UTC on 31 December 2025 is on
1 January 2026 there.

What happens (weights in kg):

2025-02-10  registered: A whole tusk 10 at X (seizure), B whole tusk 20 at X
            (natural mortality), C cut piece 2 at X (seizure, 30 cm: marked),
            S pangolin scales 50 kg / 500 pieces at Y (seizure), and
            D whole tusk 15 at Y (seizure) received back on 2024-06-01
2025-06-15  A transferred X -> Y (dispatched and received)
2025-09-01  B corrected 20 -> 19.5
2025-12-31  C dispatched X -> Y at 20:00 UTC (23:00 local, still 2025) and
            received at 22:00 UTC (01:00 local, 2026): in transit at year end
2026-01-10  S archived (destroyed) with the archive date 2025-12-20
2026-03-01  D archived (education / display); A corrected 10 -> 10.5
2026-04-01  stock-take at Y: A found, C not found -> missing
2026-05-01  stock-take at Y: C found again (and A)
"""

import datetime
from dataclasses import dataclass

import pytest
import time_machine

from custody import services as custody
from stock import services as stock_services
from tests.custody.conftest import check, dispatch, draft, shown
from tests.custody.conftest import reg as custody_reg  # noqa: F401
from tests.stock.conftest import _media_in_tmp, register  # noqa: F401

UTC = datetime.UTC


def at(y, m, d, hh=12, mm=0):
    return time_machine.travel(datetime.datetime(y, m, d, hh, mm, tzinfo=UTC), tick=False)


@dataclass
class History:
    reg: object
    A: object
    B: object
    C: object
    D: object
    S: object


@pytest.fixture
def reg(custody_reg, country_a):  # noqa: F811
    country_a.time_zone = "Africa/Nairobi"
    country_a.save(update_fields=["time_zone"])
    return custody_reg


@pytest.fixture
def history(reg):
    with at(2025, 2, 10):
        A = register(reg, weight_kg="10.000", source="seizure")
        B = register(reg, weight_kg="20.000", source="natural_mortality")
        C = register(
            reg, item_type=reg.cut_piece, weight_kg="2.000", length_cm="30", source="seizure"
        )
        S = register(
            reg, item_type=reg.scales, site=reg.site_y, actor=reg.manager_y, weight_kg="50.000"
        )
        D = register(
            reg,
            site=reg.site_y,
            actor=reg.manager_y,
            weight_kg="15.000",
            received_on=datetime.date(2024, 6, 1),
        )
    with at(2025, 6, 15):
        transfer = draft(reg, [A])
        dispatch(reg, transfer)
        custody.transfer_receive(actor=reg.manager_y, transfer=transfer, checks=[check(A)])
    with at(2025, 9, 1):
        stock_services.item_correct(
            actor=reg.manager_x, item=B, changes={"weight_kg": "19.500"}, reason="Re-weighed"
        )
    with at(2025, 12, 31, 20):
        transfer = draft(reg, [C])
        dispatch(reg, transfer)
    with at(2025, 12, 31, 22):
        custody.transfer_receive(actor=reg.manager_y, transfer=transfer, checks=[check(C)])
    with at(2026, 1, 10):
        stock_services.item_archive(
            actor=reg.manager_y,
            item=S,
            reason="destroyed",
            archived_on=datetime.date(2025, 12, 20),
            authority_reference="MIN/2025/99",
            destruction_method="Burnt",
            witnesses="Officer A, Officer B",
        )
    with at(2026, 3, 1):
        stock_services.item_archive(
            actor=reg.manager_y,
            item=D,
            reason="education_display",
            archived_on=datetime.date(2026, 3, 1),
            authority_reference="MIN/2026/3",
        )
        stock_services.item_correct(
            actor=reg.manager_y, item=A, changes={"weight_kg": "10.500"}, reason="Scale fixed"
        )
    with at(2026, 4, 1):
        take = custody.stocktake_open(actor=reg.manager_y, site=reg.site_y)
        custody.stocktake_check(actor=reg.manager_y, stocktake=take, item=A, result="found")
        custody.stocktake_sign_off(
            actor=reg.manager_y, stocktake=take, confirm_missing=shown(reg.manager_y, take)
        )
    with at(2026, 5, 1):
        take = custody.stocktake_open(actor=reg.manager_y, site=reg.site_y)
        custody.stocktake_check(actor=reg.manager_y, stocktake=take, item=C, result="found")
        custody.stocktake_check(actor=reg.manager_y, stocktake=take, item=A, result="found")
        custody.stocktake_sign_off(
            actor=reg.manager_y, stocktake=take, confirm_missing=shown(reg.manager_y, take)
        )
    for item in (A, B, C, D, S):
        item.refresh_from_db()
    return History(reg=reg, A=A, B=B, C=C, D=D, S=S)
