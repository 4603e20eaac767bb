"""Signing in through the real allauth views, and the walls between hosts."""

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from tests.accounts.helpers import LOGIN_URL, is_signed_in, log_in
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_login_page_is_friendly_and_offers_no_sign_up(client, host_a):
    response = client.get(LOGIN_URL, HTTP_HOST=host_a)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Your username or e-mail address" in html
    assert "/accounts/password/reset/" in html
    assert "/accounts/signup/" not in html


def test_sign_up_is_closed(client, host_a, country_a):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "intruder",
            "email": "intruder@example.org",
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
        },
        HTTP_HOST=host_a,
    )
    assert "Accounts are created by administrators" in response.content.decode()
    with schema_context(country_a.schema_name):
        from accounts.models import User

        assert not User.objects.filter(username="intruder").exists()


@pytest.mark.parametrize("login_with", ["username", "email"])
def test_country_user_signs_in_with_username_or_email(client, country_a, host_a, login_with):
    with schema_context(country_a.schema_name):
        user = make_user(username="neema", email="neema@example.org")
    response = log_in(client, host_a, getattr(user, login_with))
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert is_signed_in(client, host_a)


def test_wrong_password_is_refused_with_a_message(client, country_a, host_a):
    with schema_context(country_a.schema_name):
        make_user(username="neema")
    response = log_in(client, host_a, "neema", "not-the-password")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert not is_signed_in(client, host_a)


def test_country_user_cannot_sign_in_on_another_country_nor_public_host(
    client, country_a, host_a, host_b, public_host
):
    with schema_context(country_a.schema_name):
        make_user(username="amara", is_staff=True)
    for host in (host_b, public_host):
        response = log_in(client, host, "amara")
        assert response.status_code == 200, host
        assert not is_signed_in(client, host)
    assert not is_signed_in(client, host_a)


def test_platform_staff_cannot_sign_in_on_a_country_host(client, host_a, public_host):
    make_user(username="ops", is_staff=True)  # public schema
    response = log_in(client, host_a, "ops")
    assert response.status_code == 200
    assert not is_signed_in(client, host_a)
    # The same credentials do work where they belong (then the 2FA step).
    response = log_in(client, public_host, "ops")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/set-up/"


def test_non_staff_public_account_cannot_use_the_public_host(client, public_host):
    user = make_user(username="not-staff")  # public schema, is_staff False
    response = log_in(client, public_host, "not-staff")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert not is_signed_in(client, public_host)
    # Even holding a session (e.g. made staff, signed in, then demoted): no console.
    client.force_login(user)
    assert client.get("/", HTTP_HOST=public_host).status_code == 404


def test_deactivated_user_cannot_sign_in(client, country_a, host_a):
    with schema_context(country_a.schema_name):
        make_user(username="gone", is_active=False)
    response = log_in(client, host_a, "gone")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/inactive/"
    assert not is_signed_in(client, host_a)
    page = client.get("/accounts/inactive/", HTTP_HOST=host_a).content.decode()
    assert "This account is closed" in page


def test_deactivating_ends_an_open_session(client, country_a, host_a):
    with schema_context(country_a.schema_name):
        user = make_user(username="leaving")
    assert log_in(client, host_a, "leaving").status_code == 302
    assert is_signed_in(client, host_a)
    with schema_context(country_a.schema_name):
        user.is_active = False
        user.save(update_fields=["is_active"])
    assert not is_signed_in(client, host_a)


def test_session_of_country_a_does_not_authenticate_on_country_b(
    client, country_a, country_b, host_a, host_b
):
    # Same pk, same username, same password in both countries: the worst case.
    with schema_context(country_a.schema_name):
        user_a = make_user(username="twin", id=990001)
    with schema_context(country_b.schema_name):
        make_user(username="twin", id=user_a.pk)
    assert log_in(client, host_a, "twin").status_code == 302
    assert is_signed_in(client, host_a)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    # The test client sends the same cookie to every host (a browser would not).
    assert not is_signed_in(client, host_b)
    # B answered "no such session" (and told the client to drop the cookie);
    # A's session itself is untouched.
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert is_signed_in(client, host_a)


def test_logout_page_and_sign_out(client, country_a, host_a):
    with schema_context(country_a.schema_name):
        make_user(username="neema")
    log_in(client, host_a, "neema")
    assert "Yes, sign out" in client.get("/accounts/logout/", HTTP_HOST=host_a).content.decode()
    response = client.post("/accounts/logout/", HTTP_HOST=host_a)
    assert response.status_code == 302
    assert not is_signed_in(client, host_a)


class TestThrottle:
    def test_five_wrong_passwords_lock_the_account_with_a_clear_message(
        self, client, country_a, host_a
    ):
        with schema_context(country_a.schema_name):
            make_user(username="neema")
        for _ in range(5):
            response = log_in(client, host_a, "neema", "wrong-password")
            assert "Too many failed" not in response.content.decode()
        # Even the right password is refused for now.
        response = log_in(client, host_a, "neema")
        assert response.status_code == 200
        assert "Too many failed login attempts" in response.content.decode()
        assert not is_signed_in(client, host_a)

    def test_lock_is_per_country(self, client, country_a, country_b, host_a, host_b):
        with schema_context(country_a.schema_name):
            make_user(username="neema")
        with schema_context(country_b.schema_name):
            make_user(username="neema")
        for _ in range(6):
            log_in(client, host_a, "neema", "wrong-password")
        assert "Too many failed" in log_in(client, host_a, "neema").content.decode()
        # The counters live under country A's cache keys (tenant-aware key function).
        assert log_in(client, host_b, "neema").status_code == 302
