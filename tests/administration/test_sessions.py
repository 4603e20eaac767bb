"""Idle sessions end after the country's setting; the settings page changes it."""

import time

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from administration.middleware import LAST_SEEN_KEY
from audit.models import AccessEvent
from tenants.models import Country
from tests.accounts.helpers import is_signed_in
from tests.administration.conftest import signed_in

pytestmark = pytest.mark.django_db


def idle_for(client, seconds):
    session = client.session
    session[LAST_SEEN_KEY] = time.time() - seconds
    session.save()


def test_session_ends_after_the_countrys_idle_time_and_not_before(people, host_a, country_a):
    Country.objects.filter(pk=country_a.pk).update(idle_session_minutes=30)
    client = signed_in(Client(), people.manager_x, schema="xa", host=host_a)
    idle_for(client, 29 * 60)
    assert is_signed_in(client, host_a)
    idle_for(client, 31 * 60)
    response = client.get("/items/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not is_signed_in(client, host_a)
    with schema_context("xa"):
        expired = AccessEvent.objects.filter(
            action=AccessEvent.Action.SESSION_EXPIRED, user=people.manager_x
        )
        assert [e.details for e in expired] == [{"idle_minutes": 30}]
        # Logged as an expiry, not as the person signing out.
        assert not AccessEvent.objects.filter(action=AccessEvent.Action.LOGOUT).exists()


def test_administrator_sets_idle_time_and_approval_of_corrections(people, host_a, country_a):
    client = signed_in(Client(), people.admin, schema="xa", host=host_a)
    response = client.post(
        "/administration/settings/",
        {"corrections_need_approval": "on", "idle_session_minutes": "15"},
    )
    assert response.status_code == 302
    country_a.refresh_from_db()
    assert country_a.corrections_need_approval and country_a.idle_session_minutes == 15
    with schema_context("xa"):
        event = AccessEvent.objects.get(action=AccessEvent.Action.SETTINGS_CHANGED)
        assert event.details["idle_session_minutes"] == {"before": 60, "after": 15}
    refused = client.post("/administration/settings/", {"idle_session_minutes": "1"})
    assert refused.status_code == 200
    country_a.refresh_from_db()
    assert country_a.idle_session_minutes == 15
