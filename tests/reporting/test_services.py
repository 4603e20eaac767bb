"""report_request / report_generate: the queue, the progress page, failures."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from reporting import services
from reporting.models import ReportRun
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_waiting_report_page_refreshes_until_ready(history, client, host_a):
    hq = history.reg.hq
    run = services.report_request(
        actor=hq,
        kind="yearly",
        fmt="xlsx",
        title="Years",
        params={"first_year": 2024, "last_year": 2025},
    )  # on_commit not run: still waiting
    client.force_login(hq)
    page = client.get(reverse("reporting:run_detail", args=[run.pk]), HTTP_HOST=host_a)
    assert 'http-equiv="refresh"' in page.content.decode()
    assert run.status == "queued"
    # Another user does not see someone else's report being prepared.
    other = make_user(role="hq_officer", all_sites=True)
    client.force_login(other)
    assert (
        client.get(reverse("reporting:run_detail", args=[run.pk]), HTTP_HOST=host_a).status_code
        == 404
    )
    run = services.report_generate(run_id=run.pk)
    assert run.status == "done" and run.progress == 100 and len(run.sha256) == 64
    page = client.get(reverse("reporting:run_detail", args=[run.pk]), HTTP_HOST=host_a)
    assert 'http-equiv="refresh"' not in page.content.decode()


def test_a_failure_is_recorded_not_raised(history):
    run = services.report_request(
        actor=history.reg.hq, kind="summary", fmt="csv", title="Broken", params={}
    )
    run = services.report_generate(run_id=run.pk)
    assert run.status == ReportRun.Status.FAILED
    assert run.error and not run.sha256


def test_export_needs_the_permission(history):
    with pytest.raises(PermissionDenied):
        services.report_request(actor=make_user(), kind="summary", fmt="csv", title="x", params={})
