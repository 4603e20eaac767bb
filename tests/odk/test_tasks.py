"""The sync's Celery side: the beat entry, the task in the country it was sent
from, and "Sync now" (no broker in the tests: the task runs in the request)."""

import pytest
from django_tenants.utils import schema_context

from odk import services
from odk.models import Submission
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
    assert "The sync stopped:" in response.text
    assert CentralConnection.objects.get().last_sync_error
