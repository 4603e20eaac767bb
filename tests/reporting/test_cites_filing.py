"""CITES filing (issue 12, items 5-12): a two-year history with known answers
computed here by plain SQL over the raw rows, never by the project's code.

2024-03-01  registered at X: T1 whole tusk 10 kg, T2 whole tusk 20 kg,
            W carving 3 kg ("ivory-carving": worked ivory), horns R1 2 kg
            (Diceros bicornis) and R2 1.5 kg (Ceratotherium simum)
2025-01-20  the HQ officer files the 2024 ivory and rhino declarations
2025-02-05  late registration: L whole tusk 7 kg, date received 2024-11-15
2025-02-10  reclassification: T2 corrected to a cut piece
2025-06-01  T1 destroyed (authority reference MIN/2025/7)
2025-03-01  a private holder declares 2 whole tusks (18 kg) and 5 worked pieces
            (1.2 kg); another, declared in 2024, stopped holding in 2025
"""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from reporting import services
from reporting.cites import RESOLUTIONS, declaration, needs_reasons, resolution
from reporting.documents import build
from reporting.exports import render
from reporting.figures import Scope
from reporting.models import CitesFiling
from stock import services as stock_services
from tests.factories import ItemCategoryFactory, ItemTypeFactory
from tests.stock.conftest import register

pytestmark = pytest.mark.django_db
UTC = datetime.UTC

# The class of each type code, as the test states it (not the project's rule).
CLASS_SQL = """
    CASE WHEN t.code = 'whole-tusk' THEN 'raw_whole'
         WHEN t.code = 'ivory-carving' THEN 'worked'
         WHEN t.code = 'cut-piece' THEN 'raw_cut'
         WHEN t.code = 'horn' THEN 'whole' END
"""


def at(y, m, d, hh=12):
    return time_machine.travel(datetime.datetime(y, m, d, hh, tzinfo=UTC), tick=False)


def held_sql(kind: str, day: datetime.date) -> dict:
    """{item id: (class, pieces, kg)} held at the end of ``day``, from the
    items' rows: received by then and not archived by then."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT i.id::text, {CLASS_SQL}, i.pieces, i.weight_kg
            FROM stock_stockitem i
            JOIN stock_itemtype t ON t.id = i.item_type_id
            JOIN stock_itemcategory c ON c.id = t.category_id
            LEFT JOIN stock_archiverecord a ON a.item_id = i.id
            WHERE c.kind = %s AND i.received_on <= %s
              AND (a.id IS NULL OR a.archived_on > %s)
            """,  # noqa: S608 - CLASS_SQL is a constant
            [kind, day, day],
        )
        return {row[0]: (row[1], row[2], row[3]) for row in cursor.fetchall()}


def totals(held: dict) -> dict:
    out: dict = {}
    for key, pieces, kg in held.values():
        items, p, w = out.get(key, (0, 0, Decimal("0")))
        out[key] = (items + 1, p + pieces, w + kg)
    return out


@pytest.fixture
def two_years(reg):
    rhino = ItemCategoryFactory(code="rhino", kind="rhino_horn")
    reg.horn = ItemTypeFactory(code="horn", category=rhino, whole=True, cites_class="rhino_whole")
    # Worked ivory by its declared class: nothing in the code says "worked".
    reg.carving = ItemTypeFactory(
        code="ivory-carving", category=reg.ivory, cites_class="ivory_worked"
    )
    answers = {}
    with at(2024, 3, 1):
        reg.T1 = register(reg, weight_kg="10.000")
        reg.T2 = register(reg, weight_kg="20.000")
        reg.W = register(reg, item_type=reg.carving, weight_kg="3.000")
        reg.R1 = register(reg, item_type=reg.horn, weight_kg="2.000", species="Diceros bicornis")
        reg.R2 = register(reg, item_type=reg.horn, weight_kg="1.500", species="Ceratotherium simum")
    with at(2025, 1, 20):
        answers["filed_2024"] = held_sql("ivory", datetime.date(2024, 12, 31))
        reg.filing = services.cites_file(
            actor=reg.hq, kind="ivory", year=2024, reasons="First declaration in SMS."
        )
        services.cites_file(actor=reg.hq, kind="rhino_horn", year=2024, reasons="First.")
    with at(2025, 2, 5):
        reg.L = register(
            reg, weight_kg="7.000", received_on=datetime.date(2024, 11, 15), source="seizure"
        )
    with at(2025, 2, 10):
        stock_services.item_correct(
            actor=reg.manager_x,
            item=reg.T2,
            changes={"item_type": reg.cut_piece, "length_cm": "40"},
            reason="Cut piece, not a whole tusk",
        )
    with at(2025, 6, 1):
        stock_services.item_archive(
            actor=reg.manager_x,
            item=reg.T1,
            reason="destroyed",
            archived_on=datetime.date(2025, 6, 1),
            authority_reference="MIN/2025/7",
            destruction_method="Burnt",
            witnesses="Officer A",
        )
    with at(2025, 3, 1):
        services.private_holding_record(
            actor=reg.hq,
            data={
                "holder": "Mr Private",
                "place": "Nairobi",
                "declared_on": datetime.date(2025, 3, 1),
                "raw_whole_pieces": 2,
                "raw_whole_kg": Decimal("18.000"),
                "worked_pieces": 5,
                "worked_kg": Decimal("1.200"),
                "documents": "Certificate 12/2025",
            },
        )
        services.private_holding_record(
            actor=reg.hq,
            data={
                "holder": "Ms Former",
                "place": "Mombasa",
                "declared_on": datetime.date(2024, 5, 1),
                "raw_cut_pieces": 3,
                "raw_cut_kg": Decimal("4.000"),
                "ended_on": datetime.date(2025, 7, 1),
            },
        )
    reg.answers = answers
    return reg


def by_class(result):
    return {f.key: f.total.as_tuple() for f in result.classes if f.total}


def test_2025_declaration_matches_sql_and_compares_with_2024_as_filed(two_years):
    reg = two_years
    result = declaration(kind="ivory", year=2025, scope=Scope())
    # The closing stock, per class, from the raw rows.
    assert by_class(result) == totals(held_sql("ivory", datetime.date(2025, 12, 31)))
    assert by_class(result) == {
        "raw_whole": (1, 1, Decimal("7.000")),
        "raw_cut": (1, 1, Decimal("20.000")),
        "worked": (1, 1, Decimal("3.000")),
    }
    # The previous year is the one filed, not today's recomputation.
    filed = totals(reg.answers["filed_2024"])
    assert filed == {"raw_whole": (2, 2, Decimal("30.000")), "worked": (1, 1, Decimal("3.000"))}
    assert {f.key: f.previous.as_tuple() for f in result.classes if f.previous} == filed
    assert result.previous.as_tuple() == (3, 3, Decimal("33.000"))
    recomputed = totals(held_sql("ivory", datetime.date(2024, 12, 31)))
    assert result.previous_recomputed.as_tuple() == (
        sum(v[0] for v in recomputed.values()),
        sum(v[1] for v in recomputed.values()),
        sum(v[2] for v in recomputed.values()),
    )
    # One adjustment per item that differs, with the events that caused it.
    now = held_sql("ivory", datetime.date(2024, 12, 31))
    differing = {
        k
        for k in set(now) | set(reg.answers["filed_2024"])
        if now.get(k) != reg.answers["filed_2024"].get(k)
    }
    assert {a.item_id for a in result.adjustments} == differing == {str(reg.L.pk), str(reg.T2.pk)}
    late = next(a for a in result.adjustments if a.item_id == str(reg.L.pk))
    assert (late.filed_class, late.now_class) == ("", "raw_whole")
    assert [event for event, _at in late.causes] == ["registered"]
    moved = next(a for a in result.adjustments if a.item_id == str(reg.T2.pk))
    assert (moved.filed_class, moved.now_class) == ("raw_whole", "raw_cut")
    assert [event for event, _at in moved.causes] == ["correction"]
    # The destruction: 10 kg destroyed, reasons needed.
    assert result.destroyed.weight_kg == Decimal("10.000")
    assert needs_reasons(result)


def test_filing_freezes_and_refuses_twice(two_years):
    reg = two_years
    filing = CitesFiling.objects.get(kind="ivory", year=2024)
    assert filing.filed_by == reg.hq
    assert filing.snapshot["total"] == [3, 3, "33.000"]
    assert set(filing.items) == set(reg.answers["filed_2024"])
    assert filing.ledger_sequence > 0
    with pytest.raises(ValidationError):
        services.cites_file(actor=reg.hq, kind="ivory", year=2024, reasons="Again")
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        CitesFiling.objects.filter(pk=filing.pk).update(reasons="changed")


def test_filing_needs_reasons_after_a_destruction(two_years):
    reg = two_years
    with pytest.raises(ValidationError) as error:
        services.cites_file(actor=reg.hq, kind="ivory", year=2025, reasons="")
    assert "reasons" in error.value.message_dict
    document = build("cites", {"cites_kind": "ivory", "year": 2025}, user=reg.hq)
    summary = document.paragraphs[0][1]
    assert "Destroyed 1 item, 10.000 kg" in summary
    assert "MIN/2025/7" in summary
    filing = services.cites_file(actor=reg.hq, kind="ivory", year=2025, reasons=summary)
    assert filing.reasons == summary


def test_filing_refused_to_lower_roles_and_partial_scopes(two_years):
    reg = two_years
    with pytest.raises(PermissionDenied):
        services.cites_file(actor=reg.manager_x, kind="ivory", year=2025, reasons="x")
    with pytest.raises(ValidationError):
        services.cites_file(actor=reg.hq, kind="ivory", year=2099, reasons="x")


def test_store_manager_declaration_does_not_use_the_country_filing(two_years):
    reg = two_years
    result = declaration(kind="ivory", year=2025, scope=Scope.of_user(reg.manager_x))
    assert result.previous_filing is None
    assert result.adjustments == []


def test_rhino_by_species_from_sql(two_years):
    result = declaration(kind="rhino_horn", year=2025, scope=Scope())
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.species, count(*), sum(i.pieces), sum(i.weight_kg)
            FROM stock_stockitem i JOIN stock_itemtype t ON t.id = i.item_type_id
            JOIN stock_itemcategory c ON c.id = t.category_id
            WHERE c.kind = 'rhino_horn' AND i.received_on <= '2025-12-31'
            GROUP BY i.species ORDER BY i.species
            """
        )
        expected = [(s, (n, p, w)) for s, n, p, w in cursor.fetchall()]
    assert [(name, m.as_tuple()) for name, m, _animals in result.species] == expected
    assert len(expected) == 2
    assert all(animals is None for _n, _m, animals in result.species)


def test_provisional_until_the_year_ends(two_years):
    year = datetime.date.today().year
    document = build("cites", {"cites_kind": "ivory", "year": year}, user=two_years.hq)
    assert document.provisional
    assert "PROVISIONAL" in document.title
    xlsx = render(document, "xlsx")
    assert xlsx[:2] == b"PK"
    document = build("cites", {"cites_kind": "ivory", "year": 2025}, user=two_years.hq)
    assert not document.provisional


def test_resolutions_from_one_table():
    assert resolution("ivory") == "Res. Conf. 10.10 (Rev. CoP19)"
    assert resolution("rhino_horn") == "Res. Conf. 9.14 (Rev. CoP19)"
    assert resolution("pangolin") == "Res. Conf. 17.10 (Rev. CoP19)"
    assert set(RESOLUTIONS) == {"ivory", "rhino_horn", "pangolin"}


def test_dashboard_shows_filing_state_to_those_who_file(two_years):
    reg = two_years
    from reporting.selectors import cites_states

    states = cites_states(user=reg.hq)
    assert states["deadline"] == datetime.date(states["year"] + 1, 2, 28)
    assert cites_states(user=reg.manager_x) is None


def test_dashboard_says_overdue_until_every_declaration_is_filed(two_years, client, host_a):
    from reporting import cites
    from reporting.selectors import cites_states
    from reporting.services import cites_file

    reg = two_years
    client.defaults["HTTP_HOST"] = host_a
    client.force_login(reg.hq)
    year = cites_states(user=reg.hq)["year"]
    past = datetime.date.today() > datetime.date(year + 1, 2, 28)
    assert cites_states(user=reg.hq)["overdue"] is past
    if past:
        assert "Overdue: the deadline was 28 Feb" in client.get("/").content.decode()
    for kind in cites.KINDS:
        cites_file(actor=reg.hq, kind=kind, year=year, reasons="Destroyed 10 kg in June.")
    assert cites_states(user=reg.hq)["overdue"] is False
    page = client.get("/").content.decode()
    assert "Overdue" not in page and "To be filed by 28 Feb" in page


def test_file_view_is_post_and_for_the_permission(two_years, client, host_a):
    reg = two_years
    client.defaults["HTTP_HOST"] = host_a
    url = reverse("reporting:cites_file", args=["ivory", 2025])
    client.force_login(reg.manager_x)
    assert client.post(url, {"reasons": "x"}).status_code == 403
    client.force_login(reg.hq)
    assert client.get(url).status_code == 405
    page = client.get(
        reverse("reporting:report", args=["cites"]), {"cites_kind": "ivory", "year": 2025}
    )
    assert "Adjustments to the 2024 declaration as filed" in page.content.decode()
    response = client.post(url, {"reasons": "Destroyed 10 kg in June."})
    assert response.status_code == 302
    assert CitesFiling.objects.filter(kind="ivory", year=2025).exists()


def private_sql(day: datetime.date) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT sum(raw_whole_pieces), sum(raw_whole_kg), sum(raw_cut_pieces),
                   sum(raw_cut_kg), sum(worked_pieces), sum(worked_kg)
            FROM reporting_privateholding
            WHERE declared_on <= %s AND (ended_on IS NULL OR ended_on > %s)
            """,
            [day, day],
        )
        wp, wk, cp, ck, kp, kk = cursor.fetchone()
    return {"raw_whole": (wp, wk), "raw_cut": (cp, ck), "worked": (kp, kk)}


def test_private_stocks_are_totalled_apart(two_years):
    for year in (2024, 2025):
        day = datetime.date(year, 12, 31)
        result = declaration(kind="ivory", year=year, scope=Scope())
        got = {k: (m.pieces, m.weight_kg) for k, m in result.private.items()}
        assert got == private_sql(day)
    result = declaration(kind="ivory", year=2025, scope=Scope())
    assert result.private["raw_whole"].as_tuple() == (1, 2, Decimal("18.000"))
    assert result.private["raw_cut"].as_tuple() == (0, 0, Decimal("0"))
    # Not government stock.
    assert result.total.as_tuple() == (3, 3, Decimal("30.000"))
    document = build("cites", {"cites_kind": "ivory", "year": 2025}, user=two_years.hq)
    assert any("Privately held stocks" in t.title for t in document.tables)
    # A store manager's declaration (their sites) has no country section.
    assert (
        declaration(kind="ivory", year=2025, scope=Scope.of_user(two_years.manager_x)).private
        is None
    )


def test_private_stocks_from_the_wrong_side(two_years, client, host_a, host_b, country_b):
    reg = two_years
    url = reverse("reporting:private_holdings")
    client.force_login(reg.manager_x)
    assert client.get(url, HTTP_HOST=host_a).status_code == 404
    assert client.post(url, {"holder": "x"}, HTTP_HOST=host_a).status_code == 404
    with pytest.raises(PermissionDenied):
        services.private_holding_record(actor=reg.manager_x, data={"holder": "x"})
    # The auditor sees the register but may not record one.
    from django_tenants.utils import schema_context

    from accounts.roles import AUDITOR, HQ_OFFICER
    from tests.factories import make_user

    auditor = make_user(role=AUDITOR, all_sites=True)
    client.force_login(auditor)
    page = client.get(url, HTTP_HOST=host_a)
    assert page.status_code == 200 and "Mr Private" in page.content.decode()
    assert client.post(url, {"holder": "x"}, HTTP_HOST=host_a).status_code == 403
    client.force_login(reg.hq)
    page = client.get(url, HTTP_HOST=host_a)
    assert "Mr Private" in page.content.decode()
    with schema_context(country_b.schema_name):
        b_hq = make_user(role=HQ_OFFICER, all_sites=True)
        client.force_login(b_hq)
    page = client.get(url, HTTP_HOST=host_b)
    assert page.status_code == 200
    assert "Mr Private" not in page.content.decode()


def test_pangolin_animals_only_where_the_protocol_gives_a_parameter(two_years, settings):
    reg = two_years
    reg.scales.cites_class = "pangolin_scales"
    reg.scales.save(update_fields=["cites_class"])
    settings.SMS_PANGOLIN_SCALES_KG_PER_ANIMAL = {"Smutsia gigantea": "2.5"}
    with at(2025, 4, 1):
        register(reg, item_type=reg.scales, weight_kg="10.000", species="Smutsia gigantea")
        register(reg, item_type=reg.scales, weight_kg="3.000", species="Manis tricuspis")
    result = declaration(kind="pangolin", year=2025, scope=Scope())
    rows = {name: (m.weight_kg, animals) for name, m, animals in result.species}
    assert rows == {
        "Manis tricuspis": (Decimal("3.000"), None),
        "Smutsia gigantea": (Decimal("10.000"), Decimal("4")),
    }
    document = build("cites", {"cites_kind": "pangolin", "year": 2025}, user=reg.hq)
    species = next(t for t in document.tables if t.sheet == "By species")
    assert "estimate" in species.note


def test_an_archive_dated_back_into_the_filed_year_is_an_adjustment(two_years):
    reg = two_years
    with at(2025, 8, 1):
        stock_services.item_archive(
            actor=reg.manager_x,
            item=reg.W,
            reason="deteriorated",
            archived_on=datetime.date(2024, 12, 20),
            authority_reference="MIN/2025/12",
        )
    result = declaration(kind="ivory", year=2025, scope=Scope())
    now = held_sql("ivory", datetime.date(2024, 12, 31))
    filed = reg.answers["filed_2024"]
    differing = {k for k in set(now) | set(filed) if now.get(k) != filed.get(k)}
    assert {a.item_id for a in result.adjustments} == differing
    gone = next(a for a in result.adjustments if a.item_id == str(reg.W.pk))
    assert (gone.filed_class, gone.now_class) == ("worked", "")
    assert [event for event, _at in gone.causes] == ["archived"]
    # The previous year stays as filed.
    assert result.previous.as_tuple() == (3, 3, Decimal("33.000"))


def test_the_filed_year_shows_what_was_filed_and_what_changed_since(two_years):
    reg = two_years
    document = build("cites", {"cites_kind": "ivory", "year": 2024}, user=reg.hq)
    as_filed = next(t for t in document.tables if t.title == "2024 as filed")
    assert as_filed.rows[-1][1:] == [3, 3, Decimal("33.000")]
    since = next(
        t for t in document.tables if t.title == "Adjustments to the 2024 declaration as filed"
    )
    assert sorted(row[0] for row in since.rows) == sorted([reg.L.sms_number, reg.T2.sms_number])
