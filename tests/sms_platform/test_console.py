"""The platform-staff console: public host, staff only, counts and no stock data."""

import datetime
import re

import pytest
from django.urls import NoReverseMatch, reverse
from django_tenants.utils import schema_context

from core import display
from tests.factories import SiteFactory, make_user

pytestmark = pytest.mark.django_db


def row_of(html: str, code: str) -> list[str]:
    match = re.search(rf"<tr>\s*<td>{code}</td>(.*?)</tr>", html, re.S)
    assert match, f"no row for {code}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", match.group(0), re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def counts(country) -> tuple[str, str]:
    from accounts.models import User
    from stock.models import Site

    with schema_context(country.schema_name):
        return str(User.objects.filter(is_active=True).count()), str(Site.objects.count())


def test_staff_sees_every_country_with_counts_and_no_stock_data(
    client, public_host, country_a, country_b
):
    with schema_context(country_a.schema_name):
        store = SiteFactory(code="secret-vault", name="Secret Vault Strongroom")
        make_user(username="officer", sites=[store])
        make_user(username="gone", is_active=False)
    with schema_context(country_b.schema_name):
        SiteFactory(code="b-store", name="Betaland Store")
    country_b.status = country_b.Status.SUSPENDED
    country_b.save()
    staff = make_user(username="platform", is_staff=True)
    client.force_login(staff)

    response = client.get("/", HTTP_HOST=public_host)

    assert response.status_code == 200
    html = response.content.decode()
    a_row = row_of(html, "XA")
    assert a_row[:4] == ["XA", "Alphaland", "Active", "xa.localhost"]
    # One date format on every page (core.display): "30 Nov 2026".
    assert a_row[4] == display.day(country_a.created_at, zone=datetime.UTC)
    assert a_row[5:] == list(counts(country_a))
    assert int(a_row[5]) >= 1 and int(a_row[6]) >= 1
    assert 'href="http://xa.localhost:8000/"' in html
    b_row = row_of(html, "XB")
    assert b_row[:3] == ["XB", "Betaland", "Suspended"]
    assert b_row[5:] == list(counts(country_b))
    # Counts only: nothing from inside a country (site names, people) is shown.
    assert "Secret Vault" not in html and "officer" not in html


def test_non_staff_public_user_gets_404(client, public_host):
    client.force_login(make_user(username="someone"))
    assert client.get("/", HTTP_HOST=public_host).status_code == 404


def test_anonymous_is_sent_to_log_in(client, public_host):
    response = client.get("/", HTTP_HOST=public_host)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_country_host_has_no_console(client, country_a, host_a):
    with pytest.raises(NoReverseMatch):
        reverse("console", urlconf="sms_platform.urls_country")
    with schema_context(country_a.schema_name):
        # Even a country user flagged as staff sees the country's own pages only.
        user = make_user(username="countrystaff", is_staff=True, all_sites=True)
        client.force_login(user)
    response = client.get("/", HTTP_HOST=host_a)
    html = response.content.decode()
    assert "Betaland" not in html
    assert "Platform staff see the health of each country" not in html
