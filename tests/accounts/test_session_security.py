"""Two-step sign-in holds for the whole session (issue 11, item 2): the check
on every request, step-up before security changes, e-mail addresses verified
before they sign in or reset anything, the lockout per account. Each attack
that found it, through the real pages."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core import mail
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from accounts import services
from accounts.models import User
from accounts.roles import ROLES, SMS_ADMINISTRATOR, STORE_MANAGER
from audit.models import AccessEvent
from tests.accounts.helpers import (
    STEP_UP_URL,
    code_for_key,
    code_for_secret,
    is_signed_in,
    log_in,
    secret_on_page,
    step_up,
)
from tests.accounts.test_two_factor import VERIFY, user_with_app
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db

ENROL_IN_SESSION = "/accounts/security/set-up/"
VERIFY_IN_SESSION = "/accounts/security/code/"
NEW_PASSWORD = "a-new-long-passphrase-42"


def promote(user, *, by):
    """An administrator makes ``user`` an SMS administrator (through the service)."""
    from administration import services as admin_services

    admin_services.user_update(
        actor=by,
        user=user,
        role=Group.objects.get(name=ROLES[SMS_ADMINISTRATOR].name),
        all_sites=True,
    )


def next_code(device) -> str:
    # The code of sign-in was just used: the app's next one (django-otp
    # refuses a code twice; a person would wait the few seconds).
    return code_for_key(device.key, steps_ahead=1)


def signed_in_with_app(client, host, username, device):
    assert log_in(client, host, username)["Location"] == VERIFY
    assert client.post(VERIFY, {"code": code_for_key(device.key)}, HTTP_HOST=host).status_code
    assert is_signed_in(client, host)


@pytest.fixture
def keeper(country_a):
    """A store manager of country A: no second step under the admins-only policy."""
    with schema_context(country_a.schema_name):
        return make_user(username="keeper", email="keeper@example.org", role=STORE_MANAGER)


@pytest.fixture
def national_admin(country_a):
    with schema_context(country_a.schema_name):
        return make_user(username="boss", role=SMS_ADMINISTRATOR, all_sites=True)


# --- The check runs on every request --------------------------------------------------


class TestWholeSession:
    def test_a_store_manager_promoted_mid_session_must_set_up_an_app_before_anything(
        self, client, country_a, host_a, keeper, national_admin
    ):
        assert log_in(client, host_a, "keeper")["Location"] == "/"
        assert client.get("/administration/", HTTP_HOST=host_a).status_code == 404
        with schema_context(country_a.schema_name):
            promote(keeper, by=national_admin)

        # The same session: no administration page, no page at all.
        for path in ("/administration/users/", "/accounts/me/", "/"):
            response = client.get(path, HTTP_HOST=host_a)
            assert response.status_code == 302, path
            assert response["Location"].startswith(ENROL_IN_SESSION), path
        assert client.post("/administration/users/invite/", {}, HTTP_HOST=host_a)[
            "Location"
        ].startswith(ENROL_IN_SESSION)

        # Setting it up: the password again, then the app, then everything opens.
        response = client.get("/administration/users/", HTTP_HOST=host_a, follow=False)
        response = client.get(response["Location"], HTTP_HOST=host_a)
        page = step_up(client, host_a, response).content.decode()
        assert "Your account needs a second step" in page
        secret = secret_on_page(page)
        done = client.post(ENROL_IN_SESSION, {"code": code_for_secret(secret)}, HTTP_HOST=host_a)
        assert done.status_code == 200 and done.wsgi_request.user.is_verified()
        assert client.get("/administration/users/", HTTP_HOST=host_a).status_code == 200

    def test_a_promoted_person_who_has_an_app_types_its_code_and_goes_on(
        self, client, country_a, host_a, keeper, national_admin
    ):
        assert log_in(client, host_a, "keeper")["Location"] == "/"
        with schema_context(country_a.schema_name):
            # Set up in another browser meanwhile; then promoted.
            device = TOTPDevice.objects.create(
                user=keeper, key=services.new_totp_key(), name="authenticator", confirmed=True
            )
            promote(keeper, by=national_admin)
        response = client.get("/administration/users/?page=2", HTTP_HOST=host_a)
        assert (
            response["Location"]
            == f"{VERIFY_IN_SESSION}?next=%2Fadministration%2Fusers%2F%3Fpage%3D2"
        )
        page = client.get(response["Location"], HTTP_HOST=host_a).content.decode()
        assert "now needs the second step" in page
        wrong = f"{(int(code_for_key(device.key)) + 1) % 1_000_000:06d}"
        response = client.post(
            VERIFY_IN_SESSION, {"code": wrong, "next": "/administration/users/"}, HTTP_HOST=host_a
        )
        assert response.status_code == 200 and "That code is not right" in response.content.decode()
        assert client.get("/administration/users/", HTTP_HOST=host_a).status_code == 302
        response = client.post(
            VERIFY_IN_SESSION,
            {"code": code_for_key(device.key), "next": "/administration/users/"},
            HTTP_HOST=host_a,
        )
        assert response["Location"] == "/administration/users/"
        assert client.get("/administration/users/", HTTP_HOST=host_a).status_code == 200

    def test_a_policy_for_everyone_reaches_sessions_already_open(
        self, client, country_a, host_a, keeper
    ):
        assert log_in(client, host_a, "keeper")["Location"] == "/"
        assert is_signed_in(client, host_a)
        country_a.two_factor_policy = country_a.TwoFactorPolicy.EVERYONE
        country_a.save()
        response = client.get("/accounts/me/", HTTP_HOST=host_a)
        assert response["Location"].startswith(ENROL_IN_SESSION)

    def test_an_administrators_app_reset_mid_session_closes_the_session_until_a_new_one(
        self, client, country_a, host_a
    ):
        with schema_context(country_a.schema_name):
            admin, device, _codes = user_with_app(username="admin", role=SMS_ADMINISTRATOR)
        signed_in_with_app(client, host_a, "admin", device)
        with schema_context(country_a.schema_name):
            services.two_factor_reset(user=admin)
        response = client.get("/administration/", HTTP_HOST=host_a)
        assert response["Location"].startswith(ENROL_IN_SESSION)

    def test_signing_out_stays_possible(self, client, country_a, host_a, keeper, national_admin):
        log_in(client, host_a, "keeper")
        with schema_context(country_a.schema_name):
            promote(keeper, by=national_admin)
        assert client.post("/accounts/logout/", HTTP_HOST=host_a).status_code == 302
        assert not is_signed_in(client, host_a)


# --- Step-up: security changes ask again for the password and the current code ---------


@pytest.fixture
def with_app(client, country_a, host_a):
    """A store manager who set up an app, signed in with it."""
    with schema_context(country_a.schema_name):
        user, device, codes = user_with_app(
            username="keeper", email="keeper@example.org", role=STORE_MANAGER
        )
    signed_in_with_app(client, host_a, "keeper", device)
    return user, device, codes


class TestStepUp:
    def test_replacing_the_app_needs_the_password_and_the_current_code(
        self, client, host_a, with_app
    ):
        _user, device, _codes = with_app
        response = client.get(ENROL_IN_SESSION, HTTP_HOST=host_a)
        assert response["Location"].startswith(STEP_UP_URL)
        # A session alone, or the password alone, is not enough.
        page = step_up(client, host_a, response).content.decode()
        assert "This field is required" in page and 'class="secret"' not in page
        wrong = f"{(int(code_for_key(device.key)) + 1) % 1_000_000:06d}"
        page = step_up(client, host_a, response, code=wrong).content.decode()
        assert "That code is not right" in page
        page = step_up(client, host_a, response, password="not-it", code=next_code(device))
        assert 'class="secret"' not in page.content.decode()
        page = step_up(client, host_a, response, code=next_code(device)).content.decode()
        assert 'class="secret"' in page

    def test_new_backup_codes_need_a_step_up(self, client, country_a, host_a, with_app):
        user, device, codes = with_app
        response = client.post("/accounts/security/backup-codes/", HTTP_HOST=host_a)
        assert response["Location"].startswith(STEP_UP_URL)
        with schema_context(country_a.schema_name):
            assert set(StaticToken.objects.values_list("token", flat=True)) == set(codes)
        # After the step-up, the request that was stopped goes through.
        page = step_up(client, host_a, response, code=next_code(device)).content.decode()
        assert '<ol class="codes">' in page
        with schema_context(country_a.schema_name):
            assert not set(StaticToken.objects.values_list("token", flat=True)) & set(codes)

    def test_turning_it_off_needs_a_step_up(self, client, country_a, host_a, with_app):
        user, _device, codes = with_app
        response = client.post("/accounts/security/turn-off/", HTTP_HOST=host_a)
        assert response["Location"].startswith(STEP_UP_URL)
        with schema_context(country_a.schema_name):
            assert TOTPDevice.objects.filter(user=user).exists()
        # A backup code is a current code too.
        step_up(client, host_a, response, code=codes[0])
        with schema_context(country_a.schema_name):
            assert not TOTPDevice.objects.filter(user=user).exists()

    def test_changing_the_password_needs_the_current_code(
        self, client, country_a, host_a, with_app
    ):
        _user, device, _codes = with_app
        url = "/accounts/password/change/"
        data = {
            "oldpassword": DEFAULT_PASSWORD,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        }
        response = client.post(url, data, HTTP_HOST=host_a)
        assert response.status_code == 200 and "This field is required" in response.content.decode()
        response = client.post(url, {**data, "code": next_code(device)}, HTTP_HOST=host_a)
        assert response.status_code == 302
        with schema_context(country_a.schema_name):
            assert User.objects.get(username="keeper").check_password(NEW_PASSWORD)


# --- E-mail addresses -----------------------------------------------------------------


def confirm_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/security/e-mail/confirm/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


class TestEmailAddress:
    def test_an_address_added_on_allauths_page_does_not_sign_in(
        self, client, country_a, host_a, keeper
    ):
        # The attack: store.capital added hq@... and signed in with it.
        with schema_context(country_a.schema_name):
            make_user(username="hq", email="hq@demoland.example", password="hq-own-passphrase-7")
        assert log_in(client, host_a, "keeper")["Location"] == "/"
        # allauth's own page is not offered any more: it leads to ours.
        response = client.post(
            "/accounts/email/", {"action_add": "", "email": "hq@demoland.example"}, HTTP_HOST=host_a
        )
        assert response.status_code in (301, 302)
        with schema_context(country_a.schema_name):
            assert not EmailAddress.objects.filter(email="hq@demoland.example").exists()
            # And one left by the old page signs in nowhere, nor resets anything.
            EmailAddress.objects.create(user=keeper, email="hq@demoland.example", verified=False)
        other = client.__class__()
        response = log_in(other, host_a, "hq@demoland.example")
        assert response.status_code == 200 and not is_signed_in(other, host_a)
        other.post("/accounts/password/reset/", {"email": "hq@demoland.example"}, HTTP_HOST=host_a)
        assert all("keeper" not in m.body for m in mail.outbox)

    def test_a_new_address_is_used_only_once_its_link_is_opened(
        self, client, country_a, host_a, with_app, django_capture_on_commit_callbacks
    ):
        _user, device, _codes = with_app
        response = client.get("/accounts/security/e-mail/", HTTP_HOST=host_a)
        assert response["Location"].startswith(STEP_UP_URL)
        page = step_up(client, host_a, response, code=next_code(device))
        assert "Your new e-mail address" in page.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/accounts/security/e-mail/", {"email": "Keeper.New@example.org"}, HTTP_HOST=host_a
            )
        assert response.status_code == 302
        assert mail.outbox[-1].to == ["keeper.new@example.org"]
        link = confirm_link(mail.outbox[-1])

        # Not yet the account's address: no sign-in, no reset with it.
        other = client.__class__()
        assert (
            not is_signed_in(other, host_a)
            and log_in(other, host_a, "keeper.new@example.org").status_code == 200
        )
        sent = len(mail.outbox)
        other.post(
            "/accounts/password/reset/", {"email": "keeper.new@example.org"}, HTTP_HOST=host_a
        )
        assert all("password/reset/key" not in m.body for m in mail.outbox[sent:])

        # Opening the link asks first (mail scanners open links), then changes it.
        assert "Use keeper.new@example.org" in client.get(link, HTTP_HOST=host_a).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(link, HTTP_HOST=host_a).status_code == 302
        with schema_context(country_a.schema_name):
            assert User.objects.get(username="keeper").email == "keeper.new@example.org"
        assert mail.outbox[-1].to == ["keeper@example.org"]  # the old address is told
        # The link works once; the old address no longer signs in, the new one does.
        client.post(link, HTTP_HOST=host_a)
        with schema_context(country_a.schema_name):
            assert User.objects.get(username="keeper").email == "keeper.new@example.org"
        assert log_in(client.__class__(), host_a, "keeper@example.org").status_code == 200
        assert log_in(client.__class__(), host_a, "keeper.new@example.org")["Location"] == VERIFY

    def test_an_address_is_unique_in_the_country(self, client, country_a, host_a, keeper):
        with schema_context(country_a.schema_name):
            make_user(username="hq", email="hq@demoland.example")
        log_in(client, host_a, "keeper")
        response = client.get("/accounts/security/e-mail/", HTTP_HOST=host_a)
        step_up(client, host_a, response)
        response = client.post(
            "/accounts/security/e-mail/", {"email": "HQ@demoland.example"}, HTTP_HOST=host_a
        )
        assert "Another account already uses this e-mail address" in response.content.decode()
        assert not mail.outbox

    def test_a_support_account_cannot_take_a_country_users_address(self, country_a, national_admin):
        import datetime

        from django.core.exceptions import ValidationError
        from django.utils import timezone

        from administration import services as admin_services

        make_user(username="ops", email="shared@example.org", is_staff=True)  # public
        with schema_context(country_a.schema_name):
            make_user(username="local", email="Shared@example.org")
            with pytest.raises(ValidationError) as refused:
                admin_services.support_grant(
                    actor=national_admin,
                    country=country_a,
                    staff="ops",
                    valid_until=timezone.now() + datetime.timedelta(days=1),
                )
            assert "already uses this staff member's e-mail" in str(refused.value)

    def test_a_link_for_another_account_does_nothing(self, client, country_a, host_a, keeper):
        with schema_context(country_a.schema_name):
            other = make_user(username="other")
            token = services.email_change_request(
                user=other, email="taken-over@example.org", confirm_url=str
            )
        log_in(client, host_a, "keeper")
        url = f"/accounts/security/e-mail/confirm/{token}/"
        client.post(url, HTTP_HOST=host_a)
        with schema_context(country_a.schema_name):
            assert not User.objects.filter(email="taken-over@example.org").exists()


# --- Lockout per account --------------------------------------------------------------


class TestLockoutPerAccount:
    def test_username_and_email_failures_count_together(self, client, country_a, host_a, keeper):
        for login in ("keeper", "keeper", "keeper", "keeper@example.org", "KEEPER@example.org"):
            response = log_in(client, host_a, login, "wrong-password")
            assert "Too many failed" not in response.content.decode()
        for login in ("keeper", "keeper@example.org"):
            response = log_in(client, host_a, login)
            assert "Too many failed login attempts" in response.content.decode(), login
        assert not is_signed_in(client, host_a)
        with schema_context(country_a.schema_name):
            assert AccessEvent.objects.filter(action=AccessEvent.Action.LOCKOUT).exists()

    def test_wrong_passwords_at_a_step_up_count_too(self, client, country_a, host_a, keeper):
        log_in(client, host_a, "keeper")
        response = client.get("/accounts/security/e-mail/", HTTP_HOST=host_a)
        for _ in range(5):
            step_up(client, host_a, response, password="wrong-password")
        assert "Too many failed" in log_in(client.__class__(), host_a, "keeper").content.decode()

    def test_the_lock_is_per_account_not_per_address(self, client, country_a, host_a, keeper):
        with schema_context(country_a.schema_name):
            make_user(username="neighbour")
        for _ in range(5):
            log_in(client, host_a, "neighbour", "wrong-password")
        assert log_in(client.__class__(), host_a, "keeper")["Location"] == "/"


# --- Sensitive permissions, whatever the role is called -------------------------------


SENSITIVE_CASES = sorted(
    __import__("accounts.roles", fromlist=["SENSITIVE_PERMISSIONS"]).SENSITIVE_PERMISSIONS
)


def test_every_administrator_only_permission_is_declared_sensitive():
    from accounts.management_scope import WORKING_PERMISSIONS
    from accounts.roles import SENSITIVE_PERMISSIONS

    administrators_own = set(ROLES[SMS_ADMINISTRATOR].permissions) - WORKING_PERMISSIONS
    # Seeing the country's configuration (custom fields) changes nothing and
    # shows no one's activity; everything else only an administrator holds does.
    changes_or_watches = {p for p in administrators_own if p != "stock.view_customfielddefinition"}
    assert changes_or_watches <= SENSITIVE_PERMISSIONS
    assert not SENSITIVE_PERMISSIONS & WORKING_PERMISSIONS


@pytest.mark.parametrize("perm", SENSITIVE_CASES)
def test_a_custom_role_with_any_sensitive_permission_needs_the_second_step(
    country_a, keeper, national_admin, perm
):
    from django.contrib.auth.models import Permission

    from accounts.selectors import two_factor_required
    from administration import services as admin_services

    app_label, codename = perm.split(".")
    with schema_context(country_a.schema_name):
        permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
        working = Group.objects.get(name=ROLES[STORE_MANAGER].name).permissions.all()
        role = admin_services.role_save(
            actor=national_admin, name="Store manager plus", permissions=[*working, permission]
        )
        assert not two_factor_required(user=User.objects.get(pk=keeper.pk), country=country_a)
        keeper.groups.set([role])
        assert two_factor_required(user=User.objects.get(pk=keeper.pk), country=country_a)


def test_a_store_manager_given_a_custom_role_with_odk_mid_session_must_set_up_an_app(
    client, country_a, host_a, keeper, national_admin
):
    from django.contrib.auth.models import Permission

    from administration import services as admin_services

    assert log_in(client, host_a, "keeper")["Location"] == "/"
    assert client.get("/", HTTP_HOST=host_a).status_code == 200
    with schema_context(country_a.schema_name):
        working = list(Group.objects.get(name=ROLES[STORE_MANAGER].name).permissions.all())
        odk = Permission.objects.get(codename="manage_odk")
        role = admin_services.role_save(
            actor=national_admin, name="Store manager with ODK", permissions=[*working, odk]
        )
        admin_services.user_update(actor=national_admin, user=keeper, role=role, all_sites=True)
    for path in ("/odk/", "/"):
        response = client.get(path, HTTP_HOST=host_a)
        assert response.status_code == 302, path
        assert response["Location"].startswith(ENROL_IN_SESSION), path
