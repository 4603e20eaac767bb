"""Test harness: the real PostgreSQL, two countries created once per session.

XA and XB are made afresh at the start of each session, outside the per-test
transactions, as copies of the migrated template schema (tenants.cloning);
each test's own writes are rolled back as usual, and so are the countries a
test creates.

Passwords are hashed with a fast hasher: Django's PBKDF2 costs most of a
second per password on a small machine, and hashing is not what those tests
test. A test about hashing itself asks for the real one with
``@pytest.mark.real_password_hasher``.
"""

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from django_tenants.utils import quote_schema_name, schema_context

from tests.database_roles import (  # noqa: F401 - fixtures: the tests run as the app's role
    _application_role,
    _database_roles,
    django_db_modify_db_settings,
)
from tests.factories import make_user

COUNTRY_A = {"code": "XA", "name": "Alphaland", "default_language": "en", "languages": ["en", "fr"]}
COUNTRY_B = {"code": "XB", "name": "Betaland", "default_language": "fr", "languages": ["fr", "en"]}


def _fresh_country(spec):
    """Country ``spec`` as a new copy of the template, whatever an earlier run left.

    With --reuse-db the previous run's transactional tests have committed rows
    in XA that can't be deleted (access events, ledger entries): a new copy
    costs a fraction of a second and every run starts from the same countries.
    """
    from accounts.services import roles_sync
    from tenants.models import Country, Domain
    from tenants.services import country_create

    with transaction.atomic():
        Domain.objects.filter(tenant__code=spec["code"]).delete()
        Country.objects.filter(code=spec["code"]).delete()  # the row only; not Country.delete()
        with connection.cursor() as cursor:
            cursor.execute(
                f"DROP SCHEMA IF EXISTS {quote_schema_name(spec['code'].lower())} CASCADE"
            )
        # The same path as provisioning: row, schema (a copy of the template) and domain.
        country = country_create(time_zone="UTC", **spec)
        with schema_context(country.schema_name):
            roles_sync()


def _country_row_restore(spec):
    from tenants.models import Country, Domain, country_host

    country = Country(schema_name=spec["code"].lower(), time_zone="UTC", **spec)
    country.auto_create_schema = False
    country.save()
    Domain.objects.create(tenant=country, domain=country_host(spec["code"]), is_primary=True)
    return country


FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PROJECT_PASSWORD_HASHERS = list(settings.PASSWORD_HASHERS)


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hasher():
    """Every test, and the session's own fixtures, hash with MD5 (see the docstring)."""
    with override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
        yield


@pytest.fixture(autouse=True)
def _real_password_hasher(request):
    if request.node.get_closest_marker("real_password_hasher") is None:
        yield
        return
    with override_settings(PASSWORD_HASHERS=PROJECT_PASSWORD_HASHERS):
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from tenants.cloning import template_current

    with django_db_blocker.unblock():
        # Migrated here, committed, once: a stale template (--reuse-db after a
        # new migration) would otherwise be migrated again inside every test
        # that creates a country, and rolled back with it.
        with transaction.atomic():
            template_current()
        _fresh_country(COUNTRY_A)
        _fresh_country(COUNTRY_B)
    yield


@pytest.fixture(autouse=True)
def _session_countries_after_flush(request, django_db_blocker):
    """Put XA/XB's rows back before each transactional test.

    A transactional test (``transaction=True``, ``live_server``) ends with
    Django's flush, which truncates the public schema: the Country and Domain
    rows go, the country schemas stay. pytest-django runs transactional tests
    after all the others, so restoring before each of them is enough; it costs
    one query when nothing was flushed.
    """
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    if names & {"transactional_db", "live_server"} or (marker and marker.kwargs.get("transaction")):
        from tenants.models import Country

        with django_db_blocker.unblock():
            codes = set(Country.objects.values_list("code", flat=True))
            for spec in (COUNTRY_A, COUNTRY_B):
                if spec["code"] not in codes:
                    _country_row_restore(spec)
    yield


@pytest.fixture(autouse=True)
def _public_schema_after_each_test():
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _ledger_witness_in_tmp(settings, tmp_path):
    # What the ledger's checks keep outside the database (ledger.witness):
    # each test starts with none, as its ledger starts empty.
    settings.SMS_LEDGER_WITNESS_DIR = str(tmp_path / "ledger-witness")


@pytest.fixture(autouse=True)
def _empty_cache():
    # Login throttles (allauth's and accounts.throttle) count in the cache;
    # counts left by one test must not lock out the next one.
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _force_login_is_a_whole_sign_in(monkeypatch):
    """``Client.force_login`` stands for a finished sign-in. For an account
    whose sign-in has a second step (administrators, platform staff, a
    country's policy), that includes the second factor: the session records a
    confirmed authenticator app, as the login step does — otherwise
    accounts.middleware.SecondFactorMiddleware sends the session to that step.
    Tests of the step itself sign in through the real pages."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_tenants.utils import get_public_schema_name

    from accounts.selectors import totp_device_of, two_factor_required
    from tenants.models import Country

    force_login = Client.force_login

    def whole_sign_in(self, user, backend=None):
        force_login(self, user, backend)
        schema = connection.schema_name
        country = None
        if schema != get_public_schema_name():
            country = Country.objects.filter(schema_name=schema).first()
        if not two_factor_required(user=user, country=country):
            return
        device = totp_device_of(user) or TOTPDevice.objects.create(
            user=user, name="authenticator", confirmed=True
        )
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    monkeypatch.setattr(Client, "force_login", whole_sign_in)


@pytest.fixture
def country_a(db):
    from tenants.models import Country

    return Country.objects.get(code="XA")


@pytest.fixture
def country_b(db):
    from tenants.models import Country

    return Country.objects.get(code="XB")


@pytest.fixture
def in_country_a(country_a):
    """Run the test body with the connection on country A's schema."""
    with schema_context(country_a.schema_name):
        yield country_a


@pytest.fixture
def host_a(country_a):
    return country_a.host


@pytest.fixture
def host_b(country_b):
    return country_b.host


@pytest.fixture
def public_host(settings):
    return settings.SMS_BASE_DOMAIN


__all__ = ["make_user"]
