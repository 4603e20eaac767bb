"""The sync's Celery side: the beat entry, the task in the country it was sent
from, and "Sync now" (no broker in the tests: the task runs in the request)."""

import pytest
from django_tenants.utils import schema_context

from odk import services
from odk.models import Submission
from odk.sync import sync_country
from odk.tasks import odk_sync
from odk.xlsforms import REGISTER_FORM_ID
from stock.models import StockItem
from tests.factories import DEFAULT_PASSWORD

from .conftest import register_values
from .fake_central import PASSWORD, USERNAME, FakeCentral


def _submit(fake, reg, **values):
    return fake.submit(
        REGISTER_FORM_ID,
        register_values(photo_1=None, **values),
        submitter_id=reg.app_x.central_id,
    )


@pytest.fixture
def country_b_with_its_own_central(country_b):
    """Country B connected to another Central that holds a submission of its own."""
    from tests.stock.conftest import make_register

    central_b = FakeCentral().start()
    with schema_context(country_b.schema_name):
        reg_b = make_register()
        services.connection_save(
            actor=reg_b.admin,
            base_url=central_b.url,
            username=USERNAME,
            password=PASSWORD,
            current_password=DEFAULT_PASSWORD,
        )
        services.project_create(actor=reg_b.admin)
        services.forms_publish(actor=reg_b.admin)
        app_users = {a.user_id: a for a in services.app_users_sync(actor=reg_b.admin)}
    central_b.submit(
        REGISTER_FORM_ID,
        register_values(photo_1=None),
        submitter_id=app_users[reg_b.manager_x.pk].central_id,
    )
    central_b.requests.clear()
    yield central_b
    central_b.stop()


def test_the_beat_sends_the_odk_sync_task_to_every_country_on_a_schedule(settings):
    from sms_platform.celery import app

    entry = app.conf.beat_schedule["odk-sync"]
    assert entry["task"] == odk_sync.name == "odk.sync"
    assert app.tasks[entry["task"]].run.__module__ == "odk.tasks"  # registered under that name
    assert float(entry["schedule"]) == settings.SMS_ODK_SYNC_SECONDS
    # The tenant-aware scheduler is what sends each entry to every country.
    assert settings.CELERY_BEAT_SCHEDULER == (
        "tenant_schemas_celery.scheduler:TenantAwareScheduler"
    )


def test_the_task_syncs_only_the_country_it_was_sent_from(
    connected, fake, country_b_with_its_own_central
):
    sub = _submit(fake, connected)
    result = odk_sync.delay().get()  # eager: no broker configured in the tests
    assert result["error"] == "" and result["processed"] == 1
    assert Submission.objects.get(central_id=sub.id).status == Submission.Status.PROCESSED
    assert StockItem.objects.count() == 1
    assert country_b_with_its_own_central.requests == []


def test_sync_now_runs_this_countrys_sync_in_the_request_and_shows_what_it_did(
    connected, fake, country_b, country_b_with_its_own_central, client, host_a, settings
):
    assert settings.CELERY_TASK_ALWAYS_EAGER  # no broker: "Sync now" runs in the request
    _submit(fake, connected)
    _submit(fake, connected, weight_kg=-1)
    client.force_login(connected.admin)
    response = client.post("/odk/action/sync/", HTTP_HOST=host_a, follow=True)
    assert response.status_code == 200
    assert (
        "Sync done: 1 submissions processed, 1 waiting for review, 0 already known."
        in response.text
    )
    assert StockItem.objects.count() == 1
    assert Submission.objects.filter(status=Submission.Status.NEEDS_REVIEW).count() == 1
    # Country B's Central was not asked anything, and B stored nothing.
    assert country_b_with_its_own_central.requests == []
    with schema_context(country_b.schema_name):
        assert Submission.objects.count() == 0


def test_sync_now_says_when_central_cannot_be_reached(connected, client, host_a):
    from odk.models import CentralConnection

    CentralConnection.objects.update(base_url="http://127.0.0.1:9")  # nothing listens
    client.force_login(connected.admin)
    response = client.post("/odk/action/sync/", HTTP_HOST=host_a, follow=True)
    # One sentence in plain words, not the connection library's text.
    assert "ODK Central did not answer; nothing was lost, SMS will try again at" in response.text
    assert "Connection refused" not in response.text.split("<details>")[0]
    assert "The sync stopped:" not in response.text
    assert CentralConnection.objects.get().last_sync_error


def test_a_central_that_hangs_is_given_up_quickly_and_the_page_says_so(
    connected, fake, client, host_a, settings
):
    """A person pressing "Sync now" waits one short timeout, no retries."""
    import time

    from odk.models import CentralConnection

    settings.SMS_ODK_HTTP_RETRIES = 3  # the background's retries: not for a person waiting
    settings.SMS_ODK_PAGE_TIMEOUT = 1
    fake.fail("GET", r"Submissions$", delay=6, times=5)
    client.force_login(connected.admin)
    start = time.monotonic()
    response = client.post("/odk/action/sync/", HTTP_HOST=host_a, follow=True)
    assert time.monotonic() - start < 5
    assert "ODK Central did not answer; nothing was lost, SMS will try again at" in response.text
    state = CentralConnection.objects.get().last_sync_report
    assert state["central_down"] is True
    # The ODK page keeps saying it, with the next run.
    page = client.get("/odk/", HTTP_HOST=host_a)
    assert "ODK Central did not answer; nothing was lost." in page.text
    assert "Next sync:" in page.text


def test_the_odk_page_shows_the_last_run_its_result_and_the_next_run(
    connected, fake, client, host_a
):
    _submit(fake, connected)
    sync_country()
    client.force_login(connected.admin)
    page = client.get("/odk/", HTTP_HOST=host_a).text
    assert "Completed: 1 submissions processed, 0 waiting for review." in page
    assert "Last sync:" in page and "Next sync:" in page


def test_a_store_manager_or_another_country_sees_no_sync_state(
    connected, fake, country_b, client, host_a
):
    from accounts.roles import SMS_ADMINISTRATOR
    from tests.factories import make_user

    _submit(fake, connected)
    sync_country()
    client.force_login(connected.manager_x)
    assert client.get("/odk/", HTTP_HOST=host_a).status_code == 404
    with schema_context(country_b.schema_name):
        admin_b = make_user(role=SMS_ADMINISTRATOR, all_sites=True)
        client.force_login(admin_b)
    on_b = client.get("/odk/", HTTP_HOST=country_b.host)
    assert on_b.status_code == 200 and "Completed:" not in on_b.text
