"""Each user picks a language; the country's default applies otherwise."""

import pytest
from django_tenants.utils import schema_context

from tests.accounts.helpers import log_in
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def language_of(response) -> str:
    assert response.wsgi_request.LANGUAGE_CODE == response["Content-Language"]
    return response["Content-Language"]


def test_country_default_applies_to_anonymous_visitors(client, host_a, host_b):
    # XA defaults to English, XB to French, whatever the browser says.
    assert language_of(client.get("/accounts/login/", HTTP_HOST=host_a)) == "en"
    response = client.get("/accounts/login/", HTTP_HOST=host_b, HTTP_ACCEPT_LANGUAGE="en")
    assert language_of(response) == "fr"


def test_user_without_a_choice_gets_the_country_default(client, country_b, host_b):
    with schema_context(country_b.schema_name):
        make_user(username="awa")
    log_in(client, host_b, "awa")
    assert language_of(client.get("/accounts/me/", HTTP_HOST=host_b)) == "fr"


def test_user_picks_a_language_on_my_account(client, country_b, host_b):
    with schema_context(country_b.schema_name):
        user = make_user(username="awa")
    log_in(client, host_b, "awa")
    page = client.get("/accounts/me/", HTTP_HOST=host_b).content.decode()
    assert 'value="en"' in page and 'value="fr"' in page
    response = client.post("/accounts/me/", {"language": "en"}, HTTP_HOST=host_b)
    assert response.status_code == 302
    assert language_of(client.get("/accounts/me/", HTTP_HOST=host_b)) == "en"
    with schema_context(country_b.schema_name):
        user.refresh_from_db()
        assert user.language == "en"
    # Back to "the country's language".
    client.post("/accounts/me/", {"language": ""}, HTTP_HOST=host_b)
    assert language_of(client.get("/accounts/me/", HTTP_HOST=host_b)) == "fr"


def test_unknown_language_is_refused(client, country_a, host_a):
    with schema_context(country_a.schema_name):
        user = make_user(username="neema")
    log_in(client, host_a, "neema")
    response = client.post("/accounts/me/", {"language": "xx"}, HTTP_HOST=host_a)
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    with schema_context(country_a.schema_name):
        user.refresh_from_db()
        assert user.language == ""


def test_language_menu_before_and_after_signing_in(client, country_a, host_a):
    with schema_context(country_a.schema_name):
        user = make_user(username="neema")
    response = client.post(
        "/accounts/language/", {"language": "fr", "next": "/accounts/login/"}, HTTP_HOST=host_a
    )
    assert response["Location"] == "/accounts/login/"
    assert language_of(client.get("/accounts/login/", HTTP_HOST=host_a)) == "fr"
    # The choice made on the sign-in page carries into the session.
    log_in(client, host_a, "neema")
    assert language_of(client.get("/accounts/me/", HTTP_HOST=host_a)) == "fr"
    # Signed in, the menu saves the choice on the account.
    client.post("/accounts/language/", {"language": "en", "next": "/"}, HTTP_HOST=host_a)
    with schema_context(country_a.schema_name):
        user.refresh_from_db()
        assert user.language == "en"


def test_language_menu_does_not_redirect_to_another_site(client, host_a):
    response = client.post(
        "/accounts/language/",
        {"language": "fr", "next": "https://evil.example.org/"},
        HTTP_HOST=host_a,
    )
    assert response["Location"] == "/"


def test_choice_in_one_country_does_not_follow_to_another(client, country_a, host_a, host_b):
    with schema_context(country_a.schema_name):
        make_user(username="neema", language="en")
    log_in(client, host_a, "neema")
    assert language_of(client.get("/accounts/me/", HTTP_HOST=host_a)) == "en"
    # The same cookie on XB's host is nobody there: XB's default applies.
    assert language_of(client.get("/accounts/login/", HTTP_HOST=host_b)) == "fr"
