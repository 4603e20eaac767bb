"""Test harness: the real PostgreSQL, two countries created once per session.

Country schemas are created outside the per-test transactions (they are slow
to migrate); each test's own writes are rolled back as usual.
"""

import pytest
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from tests.database_roles import (  # noqa: F401 - fixtures: the tests run as the app's role
    _application_role,
    _database_roles,
    django_db_modify_db_settings,
)
from tests.factories import make_user

COUNTRY_A = {"code": "XA", "name": "Alphaland", "default_language": "en", "languages": ["en", "fr"]}
COUNTRY_B = {"code": "XB", "name": "Betaland", "default_language": "fr", "languages": ["fr", "en"]}


def _ensure_country(spec):
    from accounts.services import roles_sync
    from tenants.models import Country
    from tenants.services import country_create

    country = Country.objects.filter(code=spec["code"]).first()
    if country is None and schema_exists(spec["code"].lower()):
        # The schema outlived its row: a transactional test's flush (see
        # _session_countries_after_flush) or a --reuse-db run after one.
        country = _country_row_restore(spec)
    elif country is None:
        # The same path as provisioning: row, migrated schema and domain in one transaction.
        country = country_create(time_zone="UTC", **spec)
    with schema_context(country.schema_name):
        roles_sync()
    return country


def _country_row_restore(spec):
    from tenants.models import Country, Domain, country_host

    country = Country(schema_name=spec["code"].lower(), time_zone="UTC", **spec)
    country.auto_create_schema = False
    country.save()
    Domain.objects.create(tenant=country, domain=country_host(spec["code"]), is_primary=True)
    return country


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        _ensure_country(COUNTRY_A)
        _ensure_country(COUNTRY_B)
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
                    _ensure_country(spec)
    yield


@pytest.fixture(autouse=True)
def _public_schema_after_each_test():
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _empty_cache():
    # Login throttles (allauth's and accounts.throttle) count in the cache;
    # counts left by one test must not lock out the next one.
    from django.core.cache import cache

    cache.clear()
    yield


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
