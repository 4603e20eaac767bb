"""Two-factor authentication as a step of the real allauth login."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from accounts import services
from accounts.roles import SMS_ADMINISTRATOR, STORE_MANAGER
from tests.accounts.helpers import (
    backup_codes_on_page,
    code_for_key,
    code_for_secret,
    is_signed_in,
    log_in,
    secret_on_page,
    step_up,
)
from tests.factories import make_user

pytestmark = pytest.mark.django_db

VERIFY = "/accounts/2fa/code/"
ENROL = "/accounts/2fa/set-up/"
CODES = "/accounts/2fa/backup-codes/"


def enrol_through_login(client, host, username):
    """Sign in as a user who must enrol; returns (secret, backup codes)."""
    response = log_in(client, host, username)
    assert response["Location"] == ENROL
    page = client.get(ENROL, HTTP_HOST=host).content.decode()
    assert "<svg" in page  # the QR code, inline
    secret = secret_on_page(page)
    response = client.post(ENROL, {"code": code_for_secret(secret)}, HTTP_HOST=host)
    assert response["Location"] == CODES
    codes = backup_codes_on_page(client.get(CODES, HTTP_HOST=host).content.decode())
    return secret, codes


def user_with_app(**fields):
    """A user (current schema) who has already set up an authenticator app."""
    user = make_user(**fields)
    key = services.new_totp_key()
    device = TOTPDevice.objects.create(user=user, key=key, name="authenticator", confirmed=True)
    codes = services.backup_codes_regenerate(user=user)
    return user, device, codes


class TestEnrolmentOnFirstLogin:
    def test_administrator_must_enrol_and_is_not_signed_in_before(self, client, country_a, host_a):
        with schema_context(country_a.schema_name):
            make_user(username="admin", role=SMS_ADMINISTRATOR)
        response = log_in(client, host_a, "admin")
        assert response.status_code == 302
        assert response["Location"] == ENROL
        # Password alone is not a login: the pages behind it stay closed.
        assert not is_signed_in(client, host_a)
        # Coming back to the login page leads back to the pending step.
        assert client.get("/accounts/login/", HTTP_HOST=host_a)["Location"] == ENROL

    def test_full_enrolment_then_codes_then_verified_session(self, client, country_a, host_a):
        with schema_context(country_a.schema_name):
            admin = make_user(username="admin", role=SMS_ADMINISTRATOR)
        secret, codes = enrol_through_login(client, host_a, "admin")
        assert len(codes) == 10 and len(set(codes)) == 10
        # Still not signed in until the codes page is acknowledged.
        assert not is_signed_in(client, host_a)
        response = client.post(CODES, HTTP_HOST=host_a)
        assert response.status_code == 302 and response["Location"] == "/"
        me = client.get("/accounts/me/", HTTP_HOST=host_a)
        assert me.status_code == 200
        assert me.wsgi_request.user.is_verified()
        with schema_context(country_a.schema_name):
            assert TOTPDevice.objects.filter(user=admin, confirmed=True).count() == 1

    def test_wrong_code_at_enrolment_is_explained_and_saves_nothing(
        self, client, country_a, host_a
    ):
        with schema_context(country_a.schema_name):
            admin = make_user(username="admin", role=SMS_ADMINISTRATOR)
        log_in(client, host_a, "admin")
        secret = secret_on_page(client.get(ENROL, HTTP_HOST=host_a).content.decode())
        wrong = f"{(int(code_for_secret(secret)) + 1) % 1_000_000:06d}"
        response = client.post(ENROL, {"code": wrong}, HTTP_HOST=host_a)
        assert response.status_code == 200
        assert "That code is not right" in response.content.decode()
        # The same secret is offered again, so the app already set up still works.
        assert secret_on_page(response.content.decode()) == secret
        with schema_context(country_a.schema_name):
            assert not TOTPDevice.objects.filter(user=admin).exists()

    def test_platform_staff_must_enrol_on_the_public_host(self, client, public_host):
        make_user(username="ops", is_staff=True)
        enrol_through_login(client, public_host, "ops")
        client.post(CODES, HTTP_HOST=public_host)
        response = client.get("/", HTTP_HOST=public_host)
        assert response.status_code == 200
        assert response.wsgi_request.user.is_verified()

    def test_store_manager_is_not_asked_under_the_admins_only_policy(
        self, client, country_a, host_a
    ):
        with schema_context(country_a.schema_name):
            make_user(username="keeper", role=STORE_MANAGER)
        response = log_in(client, host_a, "keeper")
        assert response["Location"] == "/"
        assert is_signed_in(client, host_a)

    def test_everyone_policy_makes_store_managers_enrol(self, client, country_a, host_a):
        country_a.two_factor_policy = country_a.TwoFactorPolicy.EVERYONE
        country_a.save()
        with schema_context(country_a.schema_name):
            make_user(username="keeper", role=STORE_MANAGER)
        assert log_in(client, host_a, "keeper")["Location"] == ENROL
        assert not is_signed_in(client, host_a)


class TestCodeAtLogin:
    def test_authenticator_code_signs_in_with_a_verified_session(self, client, country_a, host_a):
        with schema_context(country_a.schema_name):
            _user, device, _codes = user_with_app(username="keeper", role=STORE_MANAGER)
        # Anyone who set up an app is asked for it, even where it is optional.
        assert log_in(client, host_a, "keeper")["Location"] == VERIFY
        assert not is_signed_in(client, host_a)
        page = client.get(VERIFY, HTTP_HOST=host_a).content.decode()
        assert "authenticator app" in page and "backup codes" in page
        response = client.post(VERIFY, {"code": code_for_key(device.key)}, HTTP_HOST=host_a)
        assert response["Location"] == "/"
        me = client.get("/accounts/me/", HTTP_HOST=host_a)
        assert me.status_code == 200 and me.wsgi_request.user.is_verified()

    def test_backup_code_works_once(self, client, country_a, host_a):
        with schema_context(country_a.schema_name):
            _user, _device, codes = user_with_app(username="admin", role=SMS_ADMINISTRATOR)
        log_in(client, host_a, "admin")
        # Typed the way people do: capitals and a space.
        typed = f"{codes[0][:4].upper()} {codes[0][4:].upper()}"
        assert client.post(VERIFY, {"code": typed}, HTTP_HOST=host_a)["Location"] == "/"
        client.post("/accounts/logout/", HTTP_HOST=host_a)
        log_in(client, host_a, "admin")
        response = client.post(VERIFY, {"code": codes[0]}, HTTP_HOST=host_a)
        assert response.status_code == 200
        assert "That code is not right" in response.content.decode()
        assert client.post(VERIFY, {"code": codes[1]}, HTTP_HOST=host_a)["Location"] == "/"

    def test_wrong_codes_are_throttled_with_a_message(self, client, country_a, host_a):
        with schema_context(country_a.schema_name):
            _user, device, _codes = user_with_app(username="admin", role=SMS_ADMINISTRATOR)
        log_in(client, host_a, "admin")
        right = code_for_key(device.key)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        for _ in range(5):
            page = client.post(VERIFY, {"code": wrong}, HTTP_HOST=host_a).content.decode()
            assert "That code is not right" in page
        response = client.post(VERIFY, {"code": right}, HTTP_HOST=host_a)
        assert response.status_code == 200
        assert "Too many wrong codes" in response.content.decode()
        assert not is_signed_in(client, host_a)

    def test_code_of_another_countrys_user_does_not_work(
        self, client, country_a, country_b, host_a
    ):
        with schema_context(country_a.schema_name):
            user_with_app(username="admin", role=SMS_ADMINISTRATOR)
        with schema_context(country_b.schema_name):
            _other, other_device, _codes = user_with_app(username="admin-b")
        log_in(client, host_a, "admin")
        response = client.post(VERIFY, {"code": code_for_key(other_device.key)}, HTTP_HOST=host_a)
        assert response.status_code == 200
        assert not is_signed_in(client, host_a)

    def test_code_page_without_a_password_step_goes_back_to_login(self, client, host_a):
        response = client.get(VERIFY, HTTP_HOST=host_a)
        assert response["Location"] == reverse("account_login")


class TestSecurityPage:
    def test_optional_enrolment_and_backup_codes_regeneration(self, client, country_a, host_a):
        with schema_context(country_a.schema_name):
            make_user(username="keeper", role=STORE_MANAGER)
        log_in(client, host_a, "keeper")
        assert (
            "Turn two-step sign-in on"
            in client.get("/accounts/security/", HTTP_HOST=host_a).content.decode()
        )
        # Setting up an app is a security change: the password first (no app yet).
        response = client.get("/accounts/security/set-up/", HTTP_HOST=host_a)
        page = step_up(client, host_a, response).content.decode()
        secret = secret_on_page(page)
        response = client.post(
            "/accounts/security/set-up/", {"code": code_for_secret(secret)}, HTTP_HOST=host_a
        )
        first_codes = backup_codes_on_page(response.content.decode())
        assert len(first_codes) == 10
        assert response.wsgi_request.user.is_verified()

        response = client.post("/accounts/security/backup-codes/", HTTP_HOST=host_a)
        new_codes = backup_codes_on_page(response.content.decode())
        assert len(new_codes) == 10 and not set(new_codes) & set(first_codes)

        # Next login: the old codes no longer work, the new ones do.
        client.post("/accounts/logout/", HTTP_HOST=host_a)
        assert log_in(client, host_a, "keeper")["Location"] == VERIFY
        response = client.post(VERIFY, {"code": first_codes[0]}, HTTP_HOST=host_a)
        assert response.status_code == 200
        assert client.post(VERIFY, {"code": new_codes[0]}, HTTP_HOST=host_a)["Location"] == "/"

    def test_administrator_cannot_turn_it_off(self, client, country_a, host_a):
        with schema_context(country_a.schema_name):
            admin, device, _codes = user_with_app(username="admin", role=SMS_ADMINISTRATOR)
        log_in(client, host_a, "admin")
        client.post(VERIFY, {"code": code_for_key(device.key)}, HTTP_HOST=host_a)
        page = client.get("/accounts/security/", HTTP_HOST=host_a).content.decode()
        assert "Turn two-step sign-in off" not in page
        client.post("/accounts/security/turn-off/", HTTP_HOST=host_a)
        with schema_context(country_a.schema_name):
            assert TOTPDevice.objects.filter(user=admin).exists()

    def test_security_page_needs_a_signed_in_user(self, client, host_a):
        assert client.get("/accounts/security/", HTTP_HOST=host_a).status_code == 302
        response = client.post("/accounts/security/backup-codes/", HTTP_HOST=host_a)
        assert response.status_code == 302


def test_reset_makes_the_administrator_enrol_again(client, country_a, host_a):
    with schema_context(country_a.schema_name):
        admin, _device, _codes = user_with_app(username="admin", role=SMS_ADMINISTRATOR)
        services.two_factor_reset(user=admin)
    assert log_in(client, host_a, "admin")["Location"] == ENROL
