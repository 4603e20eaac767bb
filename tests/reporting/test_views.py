"""Report screens through the real views on the country host: figures,
scope, exports as immutable snapshots, logged downloads, the country wall."""

import hashlib
import io

import openpyxl
import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django_tenants.utils import schema_context

from accounts.roles import HQ_OFFICER
from audit.models import AccessEvent
from reporting.models import ReportRun
from tests.factories import make_user

pytestmark = pytest.mark.django_db

SUMMARY = {"start": "2025-01-01", "end": "2025-12-31", "group_by": ["site"]}


@pytest.fixture
def as_user(client, host_a):
    def login(user):
        client.force_login(user)
        client.defaults["HTTP_HOST"] = host_a
        return client

    return login


def export(client, kind, data, fmt, capture):
    with capture(execute=True):
        response = client.post(reverse("reporting:export", args=[kind]), {**data, "format": fmt})
    assert response.status_code == 302, response.content[:500]
    return ReportRun.objects.latest("pk"), response


def test_summary_page_shows_the_figures_and_is_logged(history, as_user):
    client = as_user(history.reg.hq)
    response = client.get(reverse("reporting:report", args=["summary"]), SUMMARY)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Store X" in html and "Store Y" in html and "In transit" in html
    assert "46.500" in html  # closing balance of 2025
    assert "Removed: Destroyed" in html
    event = AccessEvent.objects.filter(action="report_view").latest("at")
    assert event.details["report"] == "summary"
    assert event.details["start"] == "2025-01-01"


def test_detail_behind_a_figure(history, as_user):
    client = as_user(history.reg.hq)
    response = client.get(
        reverse("reporting:report", args=["detail"]),
        {"start": "2025-01-01", "end": "2025-12-31", "line": "removed:destroyed"},
    )
    html = response.content.decode()
    assert history.S.sms_number in html
    assert history.A.sms_number not in html


def test_store_manager_sees_only_their_site(history, as_user):
    client = as_user(history.reg.manager_x)
    html = client.get(reverse("reporting:report", args=["summary"]), SUMMARY).content.decode()
    assert "Store X" in html
    assert "Store Y" not in html and "In transit" not in html
    detail = client.get(
        reverse("reporting:report", args=["detail"]),
        {
            "start": "2025-01-01",
            "end": "2025-12-31",
            "line": "closing",
            "site": history.reg.site_y.pk,
        },
    ).content.decode()
    assert history.A.sms_number not in detail and history.D.sms_number not in detail


def test_export_xlsx_is_a_snapshot_downloaded_through_a_logged_view(
    history, as_user, django_capture_on_commit_callbacks
):
    client = as_user(history.reg.hq)
    run, response = export(client, "summary", SUMMARY, "xlsx", django_capture_on_commit_callbacks)
    assert response["Location"] == reverse("reporting:run_detail", args=[run.pk])
    run.refresh_from_db()
    assert run.status == "done" and run.progress == 100
    assert run.site_ids is None and run.ledger_sequence
    page = client.get(reverse("reporting:run_detail", args=[run.pk])).content.decode()
    assert run.sha256 in page
    download = client.get(reverse("reporting:run_download", args=[run.pk]))
    assert download.status_code == 200
    content = b"".join(download.streaming_content)
    assert hashlib.sha256(content).hexdigest() == run.sha256
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.worksheets[0]["A1"].value == "Stock summary"
    event = AccessEvent.objects.filter(action="export").latest("at")
    assert event.object_id == str(run.pk)
    assert event.details["sha256"] == run.sha256


def test_cites_export_keeps_the_reasons(history, as_user, django_capture_on_commit_callbacks):
    client = as_user(history.reg.hq)
    run, _response = export(
        client,
        "cites",
        {"cites_kind": "ivory", "year": 2025, "reasons": "More seizures."},
        "pdf",
        django_capture_on_commit_callbacks,
    )
    run.refresh_from_db()
    assert run.status == "done"
    assert run.reasons == "More seizures."
    assert run.parameters == {"cites_kind": "ivory", "year": 2025}


def test_snapshot_cannot_be_changed_or_deleted(
    history, as_user, django_capture_on_commit_callbacks
):
    client = as_user(history.reg.hq)
    run, _response = export(
        client,
        "yearly",
        {"first_year": 2024, "last_year": 2026},
        "csv",
        django_capture_on_commit_callbacks,
    )
    run.refresh_from_db()
    for change in ({"sha256": "0" * 64}, {"file": "elsewhere.csv"}, {"parameters": {}}):
        with pytest.raises(DatabaseError), transaction.atomic():
            ReportRun.objects.filter(pk=run.pk).update(**change)
    with pytest.raises(DatabaseError), transaction.atomic():
        ReportRun.objects.filter(pk=run.pk).delete()
    ReportRun.objects.get(pk=run.pk)


def test_scoped_user_cannot_open_a_whole_country_report(
    history, as_user, client, django_capture_on_commit_callbacks
):
    hq_client = as_user(history.reg.hq)
    run, _response = export(
        hq_client, "summary", SUMMARY, "csv", django_capture_on_commit_callbacks
    )
    client.force_login(history.reg.manager_y)
    assert client.get(reverse("reporting:run_detail", args=[run.pk])).status_code == 404
    assert client.get(reverse("reporting:run_download", args=[run.pk])).status_code == 404
    # A report of site Y made by Y's manager is theirs; X's manager can't open it.
    run_y, _response = export(client, "summary", SUMMARY, "csv", django_capture_on_commit_callbacks)
    run_y.refresh_from_db()
    assert run_y.site_ids == [history.reg.site_y.pk]
    client.force_login(history.reg.manager_x)
    assert client.get(reverse("reporting:run_download", args=[run_y.pk])).status_code == 404
    client.force_login(history.reg.hq)
    assert client.get(reverse("reporting:run_download", args=[run_y.pk])).status_code == 200


def test_other_country_never_sees_the_report(
    history, as_user, client, country_b, host_b, django_capture_on_commit_callbacks
):
    run, _response = export(
        as_user(history.reg.hq), "summary", SUMMARY, "csv", django_capture_on_commit_callbacks
    )
    with schema_context(country_b.schema_name):
        b_hq = make_user(role=HQ_OFFICER, all_sites=True)
        client.force_login(b_hq)
    for name in ("reporting:run_detail", "reporting:run_download"):
        assert client.get(reverse(name, args=[run.pk]), HTTP_HOST=host_b).status_code == 404
    with schema_context(country_b.schema_name):
        assert not ReportRun.objects.filter(pk=run.pk).exists()
    page = client.get(reverse("reporting:report", args=["summary"]), SUMMARY, HTTP_HOST=host_b)
    assert page.status_code == 200
    assert history.reg.site_x.name not in page.content.decode()


def test_no_role_no_reports(history, as_user):
    client = as_user(make_user())
    assert client.get(reverse("reporting:home")).status_code == 403


def test_dashboard_and_reports_home_draw_charts(history, as_user):
    client = as_user(history.reg.hq)
    home = client.get(reverse("reporting:home")).content.decode()
    assert home.count('<svg class="chart"') == 2
    dashboard = client.get("/").content.decode()
    assert "<svg" in dashboard and "Stock over time by site" in dashboard


def test_chart_text_is_real_pixels_and_never_clipped(history, as_user):
    # Not scaled with the width (no viewBox on the chart itself): a label is
    # 12 px at 1366 px and on a phone; the first month starts at the left
    # edge and the last ends at the right one.
    import re

    client = as_user(history.reg.hq)
    page = client.get(reverse("reporting:home")).content.decode()
    chart = page[page.index('<svg class="chart"') :]
    chart = chart[: chart.index('<ul class="chart-legend">')]
    outer = chart[: chart.index(">")]
    assert "viewBox" not in outer and 'height="260"' in outer
    sizes = [int(s) for s in re.findall(r'font-size="(\d+)"', chart)]
    assert sizes and min(sizes) >= 11
    # Months as the language writes them ("Nov 2024"), not ISO.
    months = re.findall(r'text-anchor="(start|middle|end)"[^>]*>([A-Z][a-z]{2} \d{4})<', chart)
    assert months[0][0] == "start" and months[-1][0] == "end"
    assert not re.search(r">\d{4}-\d{2}<", chart)


def test_a_long_annex_shows_its_first_rows_on_the_page_and_says_where_the_rest_is(
    history, as_user, monkeypatch
):
    """The annex is read from the database only when used: the page shows its
    first rows in mark order (here 2 of the 4 marks: the limit lowered from
    2,000) and says how many there are; the XLSX has them all."""
    from reporting import selectors

    monkeypatch.setattr(selectors, "PAGE_LIST_ROWS", 2)
    marks = sorted(i.cites_mark for i in (history.A, history.B, history.C, history.D))
    client = as_user(history.reg.hq)
    response = client.get(
        reverse("reporting:report", args=["cites"]), {"cites_kind": "ivory", "year": 2025}
    )
    html = response.content.decode()
    assert marks[0] in html and marks[1] in html
    assert marks[2] not in html.split("Annex: marks of the pieces held")[1]
    assert "The first 2 of 4 rows. The XLSX and CSV files of this report list them all." in html
