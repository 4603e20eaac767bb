"""Keyset paging (core.paging) of every long list: walked page by page with
rows whose leading sort keys are all equal, every row shows up exactly once,
in the list's order, and the "previous" links walk the same pages back."""

import datetime
import uuid

import pytest
import time_machine
from django.test import Client

from accounts.roles import AUDITOR
from administration import selectors as administration_selectors
from administration import views as administration_views
from audit.models import AccessEvent
from audit.selectors import access_event_list
from audit.services import event_record
from core.paging import Keyset
from custody import selectors as custody_selectors
from custody import services as custody_services
from custody import views as custody_views
from odk import selectors as odk_selectors
from odk import views as odk_views
from odk.models import Submission
from stock import selectors as stock_selectors
from stock import services as stock_services
from stock import views as stock_views
from tests.factories import SiteFactory, make_user
from tests.stock.conftest import register

pytestmark = pytest.mark.django_db

ROWS = 7


def frozen():
    # Every row written meanwhile gets the very same time (now, so that no
    # date is in the future): ties on the first key.
    return time_machine.travel(datetime.datetime.now(datetime.UTC), tick=False)


def walk(pages: Keyset, queryset, size: int = 3):
    """Every page of ``queryset`` with the list's own ordering and cursor
    names, by its next links, then back by its previous links."""
    small = Keyset(
        *pages.ordering,
        size=size,
        next_param=pages.next_param,
        previous_param=pages.previous_param,
    )

    def keep(query):  # what {% querystring %} leaves in the link
        return {name: value for name, value in query.items() if value is not None}

    forward, params = [], {}
    while True:
        page = small.page(queryset, params)
        forward.append([row.pk for row in page.rows])
        assert len(page.rows) <= size
        if not page.next_cursor:
            break
        params = keep(page.next_query)
    backward = [[row.pk for row in page.rows]]
    while page.previous_cursor:
        page = small.page(queryset, keep(page.previous_query))
        backward.insert(0, [row.pk for row in page.rows])
    return forward, backward


def assert_pages_cover(pages: Keyset, queryset, *, tied: bool = True):
    rows = list(queryset.order_by(*pages.ordering))
    assert len(rows) == ROWS
    if tied:
        first_key = pages.ordering[0].lstrip("-")
        assert len({getattr(row, first_key) for row in rows}) == 1, "the test needs ties"
    forward, backward = walk(pages, queryset)
    flat = [pk for page in forward for pk in page]
    assert flat == [row.pk for row in rows]  # each once, none skipped, in order
    assert [len(page) for page in forward] == [3, 3, 1]
    assert backward == forward


def test_item_list_pages_once_through_items_received_the_same_day(reg):
    for _n in range(ROWS):
        register(reg, received_on="2024-06-01")
    assert_pages_cover(stock_views.ITEM_PAGES, stock_selectors.item_list(user=reg.hq))


def test_archive_pages_once_through_records_of_the_same_day_and_moment(reg):
    items = [register(reg) for _n in range(ROWS)]
    with frozen():
        for item in items:
            stock_services.item_archive(
                actor=reg.manager_x,
                item=item,
                reason="destroyed",
                archived_on=datetime.date.today(),
                authority_reference="Order 12",
                destruction_method="Burnt",
                witnesses="Two officers",
            )
    queryset = stock_selectors.archive_list(user=reg.manager_x)
    assert len({record.archived_at for record in queryset}) == 1
    assert_pages_cover(stock_views.ARCHIVE_PAGES, queryset)


def test_activity_pages_once_through_the_access_log(reg):
    for _n in range(ROWS):
        event_record(user=reg.hq, action=AccessEvent.Action.DASHBOARD_VIEW)
    queryset = access_event_list(user=reg.admin, filters={"user": reg.hq})
    assert_pages_cover(administration_views.ACTIVITY_PAGES, queryset, tied=False)


def test_changes_page_once_through_corrections_made_at_the_same_moment(reg):
    item = register(reg, weight_kg="10.000")
    with frozen():
        for n in range(ROWS):
            stock_services.item_correct(
                actor=reg.manager_x,
                item=item,
                changes={"weight_kg": f"{11 + n}.000"},
                reason="weighed again",
            )
    queryset = administration_selectors.item_change_list(user=reg.admin)
    assert_pages_cover(administration_views.CHANGE_PAGES, queryset)


def test_transfers_page_once_through_transfers_created_at_the_same_moment(reg):
    items = [register(reg) for _n in range(ROWS)]
    with frozen():
        for item in items:
            custody_services.transfer_create(
                actor=reg.manager_x,
                origin=reg.site_x,
                destination=reg.site_y,
                items=[item],
                reason="Consolidation",
                authority_reference="Letter 4",
            )
    queryset = custody_selectors.transfer_list(user=reg.manager_y)
    assert_pages_cover(custody_views.TRANSFER_PAGES, queryset)


def test_stocktakes_page_once_through_stocktakes_opened_at_the_same_moment(reg):
    auditor = make_user(role=AUDITOR, all_sites=True)
    sites = [SiteFactory() for _n in range(ROWS)]
    with frozen():
        for site in sites:
            custody_services.stocktake_open(actor=auditor, site=site)
    queryset = custody_selectors.stocktake_list(user=auditor)
    assert_pages_cover(custody_views.STOCKTAKE_PAGES, queryset)


def _submissions(count: int) -> None:
    for n in range(count):
        Submission.objects.create(
            central_id=f"uuid:{uuid.uuid4()}",
            xml_form_id="sms_register",
            instance_id=f"uuid:{uuid.uuid4()}",
            status=Submission.Status.NEEDS_REVIEW,
            errors={"weight_kg": [f"Problem {n}"]},
        )


def test_odk_review_queue_pages_once_through_submissions_received_together(reg):
    with frozen():
        _submissions(ROWS)
    queryset = odk_selectors.review_queue(user=reg.admin)
    assert_pages_cover(odk_views.REVIEW_PAGES, queryset)


def test_a_cursor_that_cannot_be_read_shows_the_first_page(reg):
    for _n in range(4):
        register(reg, received_on="2024-06-01")
    pages = Keyset(*stock_views.ITEM_PAGES.ordering, size=3)
    queryset = stock_selectors.item_list(user=reg.hq)
    first = pages.page(queryset, {})
    for bad in ("", "garbage", "2024-13-45~XA-1", "2024-06-01", "2024-06-01~a~b", "~"):
        page = pages.page(queryset, {"after": bad, "before": bad})
        assert page.is_first and page.previous_cursor is None, bad
        assert [row.pk for row in page.rows] == [row.pk for row in first.rows], bad
    assert first.next_cursor.startswith("2024-06-01~")  # the format bookmarks carry


def test_the_next_link_on_the_page_leads_to_the_rest_exactly_once(reg, host_a):
    with frozen():
        _submissions(53)
    client = Client(HTTP_HOST=host_a)
    client.force_login(reg.admin)
    first = client.get("/odk/review/")
    assert first.status_code == 200
    html = first.content.decode()
    href = html.split('rel="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = client.get(f"/odk/review/{href}")
    ids = [s.pk for s in first.context["submissions"]] + [
        s.pk for s in second.context["submissions"]
    ]
    assert len(ids) == len(set(ids)) == 53
    assert second.context["page"].next_cursor is None
