"""SMS's own error pages (core/error_pages.py): 404, 403, 500 and a refused
form (CSRF) answer their status with a page in the user's language, styled
like the app, that shows no internals. XB's language is French."""

import pytest
from django.test import Client
from django.utils import translation
from django_tenants.utils import schema_context

from accounts.roles import HQ_OFFICER, STORE_MANAGER
from core import error_pages
from tests.administration.conftest import signed_in
from tests.factories import SiteFactory, make_user

INTERNALS = ("Traceback", "Django", "DEBUG", "settings.py", "CSRF verification failed", "Reason")


def page(response) -> str:
    text = response.content.decode()
    for word in INTERNALS:
        assert word not in text, word
    assert "css/sms.css" in text  # styled like the app
    return text


@pytest.mark.django_db
def test_unknown_address_answers_404_in_french(client, host_b):
    response = client.get("/no-such-page/", HTTP_HOST=host_b)
    assert response.status_code == 404
    text = page(response)
    assert "Page introuvable" in text
    assert 'lang="fr"' in text


@pytest.mark.django_db
def test_unknown_address_answers_404_in_english(client, host_a):
    response = client.get("/no-such-page/", HTTP_HOST=host_a)
    assert response.status_code == 404
    assert "Page not found" in page(response)


@pytest.mark.django_db
def test_item_out_of_scope_answers_the_same_404_page(client, country_b, host_b):
    with schema_context(country_b.schema_name):
        user = make_user(username="gerant", role=STORE_MANAGER, sites=[SiteFactory()])
    signed_in(client, user, schema=country_b.schema_name, host=host_b)
    response = client.get("/items/999999/")
    assert response.status_code == 404
    assert "Page introuvable" in page(response)


@pytest.mark.django_db
def test_page_above_the_role_answers_403_in_french(client, country_b, host_b):
    with schema_context(country_b.schema_name):
        user = make_user(username="gerant", role=STORE_MANAGER, sites=[SiteFactory()])
    signed_in(client, user, schema=country_b.schema_name, host=host_b)
    response = client.get("/administration/users/")
    assert response.status_code == 403
    text = page(response)
    assert "Action non autorisée" in text
    assert "Utilisateurs" not in text


@pytest.mark.django_db
def test_administration_answers_what_the_readme_says(client, country_a, host_a):
    # README, "Administration and the access log": the menu answers 404 to
    # someone with none of its permissions, each page 403.
    with schema_context(country_a.schema_name):
        user = make_user(username="manager", role=STORE_MANAGER, sites=[SiteFactory()])
    signed_in(client, user, schema=country_a.schema_name, host=host_a)
    assert client.get("/administration/").status_code == 404
    for url in ("/administration/users/", "/administration/activity/", "/administration/roles/"):
        assert client.get(url).status_code == 403, url


@pytest.mark.django_db
def test_refused_form_answers_403_in_french_without_the_reason(country_b, host_b):
    client = Client(enforce_csrf_checks=True, HTTP_HOST=host_b)
    response = client.post("/accounts/login/", {"login": "x", "password": "y"})
    assert response.status_code == 403
    text = page(response)
    assert "Le formulaire a expiré" in text
    assert "Rien n’a été enregistré" in text


@pytest.mark.django_db
def test_a_failing_page_answers_500_in_french(country_b, host_b, monkeypatch):
    from stock import selectors

    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "dashboard_totals", broken)
    with schema_context(country_b.schema_name):
        user = make_user(username="dg", role=HQ_OFFICER, all_sites=True)
    client = Client(raise_request_exception=False)
    signed_in(client, user, schema=country_b.schema_name, host=host_b)
    response = client.get("/")
    assert response.status_code == 500
    text = page(response)
    assert "secret internals" not in text and "RuntimeError" not in text
    assert "Une erreur s’est produite" in text


def test_500_page_needs_no_database_and_no_request():
    # No django_db mark: any database query here fails the test.
    with translation.override("fr"):
        response = error_pages.server_error(None)
    assert response.status_code == 500
    assert "Une erreur s’est produite" in page(response)


@pytest.mark.django_db
def test_favicon(client, host_a):
    text = client.get("/accounts/login/", HTTP_HOST=host_a).content.decode()
    assert "favicon.svg" in text
    response = client.get("/favicon.ico", HTTP_HOST=host_a)
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")
