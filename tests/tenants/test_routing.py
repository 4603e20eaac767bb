"""Host-name routing: the public host, country hosts, unknown hosts, suspension."""

import pytest
from django_tenants.utils import schema_context

from tests.factories import DEFAULT_PASSWORD, make_user


@pytest.mark.django_db
def test_unknown_host_is_404(client):
    response = client.get("/accounts/login/", HTTP_HOST="zz.localhost")
    assert response.status_code == 404


@pytest.mark.django_db
def test_country_host_serves_login(client, host_a):
    response = client.get("/accounts/login/", HTTP_HOST=host_a)
    assert response.status_code == 200


@pytest.mark.django_db
def test_suspended_country_shows_page_and_keeps_data(client, country_a, host_a):
    with schema_context(country_a.schema_name):
        user = make_user(username="keeper")
    country_a.status = country_a.Status.SUSPENDED
    country_a.save()
    response = client.get("/accounts/login/", HTTP_HOST=host_a)
    assert response.status_code == 503
    assert "suspended" in response.content.decode().lower()
    with schema_context(country_a.schema_name):
        assert type(user).objects.filter(username="keeper").exists()


@pytest.mark.django_db
def test_country_user_cannot_log_in_on_other_country(client, country_a, host_a, host_b):
    with schema_context(country_a.schema_name):
        make_user(username="amara")
    response = client.post(
        "/accounts/login/",
        {"login": "amara", "password": DEFAULT_PASSWORD},
        HTTP_HOST=host_b,
    )
    assert response.status_code == 200  # form redisplayed with an error
    assert "_auth_user_id" not in client.session
    response = client.post(
        "/accounts/login/",
        {"login": "amara", "password": DEFAULT_PASSWORD},
        HTTP_HOST=host_a,
    )
    assert response.status_code == 302
