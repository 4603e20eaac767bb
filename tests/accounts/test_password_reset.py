"""Password reset by e-mail on a country host, and the invitation path built on
it (set a password from a one-time link, then sign in and enrol 2FA)."""

import re

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.core import mail
from django.utils import translation
from django_tenants.utils import schema_context

from accounts.roles import SMS_ADMINISTRATOR
from tests.accounts.helpers import code_for_secret, is_signed_in, log_in, secret_on_page
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-long-passphrase-42"


def link_in(message) -> str:
    match = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", message.body)
    assert match, message.body
    return match.group(0)


def set_password_from_link(client, host, path):
    response = client.get(path, HTTP_HOST=host)
    # allauth moves the key out of the URL into the session, then redirects.
    assert response.status_code == 302
    form_url = response["Location"]
    page = client.get(form_url, HTTP_HOST=host).content.decode()
    assert "Choose your password" in page
    return client.post(
        form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, HTTP_HOST=host
    )


def test_reset_email_links_to_the_same_country_host(client, country_a, host_a):
    with schema_context(country_a.schema_name):
        make_user(username="neema", email="neema@example.org")
    response = client.post(
        "/accounts/password/reset/", {"email": "neema@example.org"}, HTTP_HOST=host_a
    )
    assert response.status_code == 302
    assert (
        "Check your e-mail" in client.get(response["Location"], HTTP_HOST=host_a).content.decode()
    )
    assert len(mail.outbox) == 1
    link = link_in(mail.outbox[0])
    assert link.startswith(f"http://{host_a}/") or link.startswith(f"http://{host_a}:")

    path = "/" + link.split("/", 3)[3]
    response = set_password_from_link(client, host_a, path)
    assert response.status_code == 302
    page = client.get(response["Location"], HTTP_HOST=host_a).content.decode()
    assert "Your password is saved" in page
    assert log_in(client, host_a, "neema", NEW_PASSWORD)["Location"] == "/"


def test_reset_link_of_country_a_does_nothing_on_country_b(client, country_a, country_b, host_b):
    with schema_context(country_a.schema_name):
        user = make_user(username="neema", id=990101)
        path = f"/accounts/password/reset/key/{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}/"
    with schema_context(country_b.schema_name):
        make_user(username="neema", id=user.pk)
    response = client.get(path, HTTP_HOST=host_b, follow=True)
    # Country B speaks French by default: expect the message in the page's language.
    with translation.override(response["Content-Language"]):
        expected = translation.gettext("This link does not work any more")
    assert expected in response.content.decode()


def test_used_link_does_not_work_twice(client, country_a, host_a):
    with schema_context(country_a.schema_name):
        user = make_user(username="neema")
        path = f"/accounts/password/reset/key/{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}/"
    assert set_password_from_link(client, host_a, path).status_code == 302
    response = client.get(path, HTTP_HOST=host_a, follow=True)
    assert "This link does not work any more" in response.content.decode()


def test_invitation_link_then_login_then_2fa_enrolment(client, country_a, host_a):
    with schema_context(country_a.schema_name):
        admin = make_user(username="new-admin", role=SMS_ADMINISTRATOR)
        admin.set_unusable_password()
        admin.save()
        # Exactly what accounts.invitations builds its links from.
        path = f"/accounts/password/reset/key/{user_pk_to_url_str(admin)}-{default_token_generator.make_token(admin)}/"
    assert set_password_from_link(client, host_a, path).status_code == 302
    assert not is_signed_in(client, host_a)
    response = log_in(client, host_a, "new-admin", NEW_PASSWORD)
    assert response["Location"] == "/accounts/2fa/set-up/"
    secret = secret_on_page(client.get("/accounts/2fa/set-up/", HTTP_HOST=host_a).content.decode())
    response = client.post(
        "/accounts/2fa/set-up/", {"code": code_for_secret(secret)}, HTTP_HOST=host_a
    )
    assert response["Location"] == "/accounts/2fa/backup-codes/"
    assert client.post("/accounts/2fa/backup-codes/", HTTP_HOST=host_a)["Location"] == "/"
    assert is_signed_in(client, host_a)


def test_change_password_signs_out_and_new_password_works(client, country_a, host_a):
    with schema_context(country_a.schema_name):
        make_user(username="neema")
    log_in(client, host_a, "neema")
    page = client.get("/accounts/password/change/", HTTP_HOST=host_a).content.decode()
    assert "Change my password" in page
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": DEFAULT_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        HTTP_HOST=host_a,
    )
    assert response.status_code == 302
    assert not is_signed_in(client, host_a)
    assert log_in(client, host_a, "neema", DEFAULT_PASSWORD).status_code == 200
    assert log_in(client, host_a, "neema", NEW_PASSWORD)["Location"] == "/"
