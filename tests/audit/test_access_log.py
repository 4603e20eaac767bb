"""The access log: sign-in events through the real allauth views, the client
address, and the database refusing any change to the log."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django_tenants.utils import schema_context

from audit.models import AccessEvent
from audit.services import access_record, client_ip, filters_for_log
from tests.accounts.helpers import log_in
from tests.database_roles import database_owner
from tests.factories import make_user

pytestmark = pytest.mark.django_db

A = AccessEvent.Action
UA = "Mozilla/5.0 (SMS test)"


def events(schema, **filters):
    with schema_context(schema):
        return list(AccessEvent.objects.filter(**filters).order_by("id"))


def test_sign_in_and_sign_out_are_logged_once_with_who_where_and_browser(client, country_a, host_a):
    with schema_context(country_a.schema_name):
        user = make_user(username="neema")
    response = log_in(client, host_a, "neema", HTTP_USER_AGENT=UA, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302
    client.post("/accounts/logout/", HTTP_HOST=host_a, REMOTE_ADDR="198.51.100.7")

    logins = events(country_a.schema_name, action=A.LOGIN)
    logouts = events(country_a.schema_name, action=A.LOGOUT)
    assert len(logins) == 1 and len(logouts) == 1
    assert logins[0].user_id == user.pk
    assert logins[0].username == "neema"
    assert logins[0].ip_address == "198.51.100.7"
    assert logins[0].user_agent == UA
    assert logouts[0].user_id == user.pk
    # Another country's log saw nothing.
    assert events("xb", username="neema") == []


def test_failed_sign_in_keeps_the_typed_name_and_never_the_password(client, country_a, host_a):
    with schema_context(country_a.schema_name):
        user = make_user(username="neema")
    log_in(client, host_a, "neema", "a-wrong-secret-123")
    log_in(client, host_a, "nobody-here", "another-secret-456")

    failed = events(country_a.schema_name, action=A.LOGIN_FAILED)
    assert [(e.username, e.user_id) for e in failed] == [
        ("neema", user.pk),
        ("nobody-here", None),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM xa.audit_accessevent WHERE details::text LIKE %s "
            "OR user_agent LIKE %s",
            ["%secret%", "%secret%"],
        )
        assert cursor.fetchone()[0] == 0


def test_lockout_after_repeated_failures_is_logged(client, country_a, host_a):
    with schema_context(country_a.schema_name):
        make_user(username="neema")
    for _attempt in range(5):
        log_in(client, host_a, "neema", "wrong-password")
    response = log_in(client, host_a, "neema")  # right password, but locked
    assert response.status_code == 200
    assert "Too many" in response.content.decode()
    lockouts = events(country_a.schema_name, action=A.LOCKOUT)
    assert len(lockouts) == 1
    assert lockouts[0].username == "neema"
    assert events(country_a.schema_name, action=A.LOGIN) == []


def test_staff_sign_in_on_the_console_is_logged_in_the_public_schema(client, public_host):
    staff = make_user(username="ops", is_staff=True)
    log_in(client, public_host, "ops")
    # Staff need a second factor: the password step alone is not a sign-in.
    assert events("public", action=A.LOGIN, user=staff) == []
    client.force_login(staff)
    assert len(events("public", action=A.LOGIN, user=staff)) == 1


def test_access_record_stores_object_site_and_filters(in_country_a):
    from tests.factories import SiteFactory

    user = make_user(username="viewer", all_sites=True)
    site = SiteFactory()
    request = RequestFactory().get("/items/", HTTP_USER_AGENT=UA, REMOTE_ADDR="203.0.113.9")
    request.user = user
    event = access_record(
        request=request,
        action=A.ITEM_LIST,
        site=site,
        details=filters_for_log({"site": site, "q": "KE", "status": "", "received_from": None}),
    )
    event.refresh_from_db()
    assert (event.user, event.site_id, event.ip_address) == (user, site.pk, "203.0.113.9")
    assert event.details == {"site": site.pk, "q": "KE"}


def test_client_ip_ignores_forwarded_for_unless_a_proxy_is_trusted(settings):
    factory = RequestFactory()
    request = factory.get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.20"
    )
    settings.SMS_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.SMS_TRUSTED_PROXY_COUNT = 1
    # The entry our own proxy wrote, not the one the client made up.
    assert client_ip(request) == "198.51.100.20"
    settings.SMS_TRUSTED_PROXY_COUNT = 3  # fewer entries than proxies: fall back
    assert client_ip(request) == "10.0.0.2"
    assert client_ip(factory.get("/", REMOTE_ADDR="not-an-ip")) is None


def test_sign_in_limits_count_the_same_address_as_the_log(settings):
    """allauth's per-address limit ("20/5m/ip") uses core.origin's rule: behind
    nginx, its own would count nginx's address for every client."""
    from allauth.account.adapter import get_adapter

    settings.SMS_TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.20"
    )
    assert get_adapter(request).get_client_ip(request) == "198.51.100.20"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE {schema}.audit_accessevent SET username = 'someone-else'",
        "DELETE FROM {schema}.audit_accessevent",
    ],
)
@pytest.mark.parametrize("schema", ["xa", "public"])
def test_the_database_refuses_to_alter_or_delete_the_log(schema, sql):
    with schema_context(schema):
        AccessEvent.objects.create(username="witness", action=A.LOGIN)
    # The trigger, even for the owner (the application's role lacks the privilege:
    # tests/core/test_dbroles.py).
    with database_owner(), pytest.raises(DatabaseError, match="Cannot"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql.format(schema=schema))
    with schema_context(schema):
        assert AccessEvent.objects.filter(username="witness").exists()
