"""Support access for platform staff: granted by a country's administrator,
time-limited, logged, announced by e-mail, and summarised on the console."""

import datetime
import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from administration.models import SupportGrant
from audit.models import AccessEvent, SupportGrantSummary
from tests.accounts.helpers import is_signed_in, log_in
from tests.administration.conftest import signed_in
from tests.factories import make_user

pytestmark = pytest.mark.django_db
A = AccessEvent.Action
PASSWORD = "support-pass-phrase-42"


@pytest.fixture
def staff(people):
    # Public schema: the foundation's technical team.
    return make_user(username="ops", email="ops@foundation.example", is_staff=True)


def grant(client, people, host_a, *, staff="ops", days=2, read_only=True):
    signed_in(client, people.admin, schema="xa", host=host_a)
    data = {"staff": staff, "days": days, "reason": "Help with the import"}
    if read_only:
        data["read_only"] = "on"
    return client.post("/administration/support/", data)


def expire(grant_obj):
    # Move time: the grant's end is now in the past.
    with schema_context("xa"):
        SupportGrant.objects.filter(pk=grant_obj.pk).update(
            valid_until=timezone.now() - datetime.timedelta(minutes=1)
        )


def test_grant_creates_a_read_only_account_a_public_summary_and_mails_the_link(
    client, people, staff, host_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = grant(client, people, host_a)
    assert response.status_code == 302
    with schema_context("xa"):
        granted = SupportGrant.objects.get()
        account = granted.user
        assert account.username == "support.ops" and account.all_sites
        assert not account.has_usable_password()
        assert list(account.groups.values_list("name", flat=True)) == ["Support (read-only)"]
        assert AccessEvent.objects.filter(action=A.SUPPORT_GRANTED).count() == 1
    with schema_context("public"):
        summary = SupportGrantSummary.objects.get()
    with schema_context("xa"):
        # The country's copy of the table stays empty.
        assert not SupportGrantSummary.objects.exists()
    assert (summary.country_code, summary.staff_username, summary.read_only) == ("XA", "ops", True)
    assert summary.valid_until == granted.valid_until
    assert mail.outbox[-1].to == ["ops@foundation.example"]
    assert re.search(
        rf"https?://{re.escape(host_a)}\S*/accounts/password/reset/key/", mail.outbox[-1].body
    )


def test_unknown_or_non_staff_people_cannot_be_granted(client, people, staff, host_a):
    with schema_context("public"):
        make_user(username="not-staff", email="x@example.org")  # not staff
    for name in ("nobody", "not-staff"):
        response = grant(client, people, host_a, staff=name)
        assert "No platform staff member" in response.content.decode()
    with schema_context("xa"):
        assert not SupportGrant.objects.exists()


def test_support_account_works_until_the_grant_expires(
    client, people, staff, host_a, mailoutbox, django_capture_on_commit_callbacks
):
    grant(client, people, host_a)
    with schema_context("xa"):
        granted = SupportGrant.objects.get()
        account = granted.user
        account.set_password(PASSWORD)
        account.save()

    # The password step passes (then the second factor is asked for).
    first = Client()
    response = log_in(first, host_a, "support.ops", PASSWORD)
    assert response.status_code == 302 and "/accounts/2fa/" in response["Location"]

    # Signed in (the second factor done): it reads, it cannot write, and
    # the administrators receive an e-mail.
    mailoutbox.clear()
    support = Client()
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(support, account, schema="xa", host=host_a)
    admins = {address for m in mailoutbox for address in m.to}
    assert {"admin@example.org", "admin-x@example.org"} <= admins
    assert "support.ops" in mailoutbox[0].body
    assert support.get("/items/").status_code == 200
    assert support.get("/items/new/").status_code == 403
    assert support.get("/administration/users/").status_code == 403

    expire(granted)
    # The live session stops at its next request...
    response = support.get("/items/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not is_signed_in(support, host_a)
    # ...and the password no longer opens anything.
    again = Client()
    response = log_in(again, host_a, "support.ops", PASSWORD)
    assert response.status_code == 200
    with schema_context("xa"):
        assert AccessEvent.objects.filter(action=A.SUPPORT_EXPIRED, user=account).count() == 1
        assert AccessEvent.objects.filter(action=A.LOGIN_FAILED, user=account).count() == 1


def test_revoking_ends_the_access_and_updates_the_console(client, people, staff, host_a):
    grant(client, people, host_a)
    with schema_context("xa"):
        granted = SupportGrant.objects.get()
    support = signed_in(Client(), granted.user, schema="xa", host=host_a)
    assert client.get(f"/administration/support/{granted.pk}/end/").status_code == 200
    client.post(f"/administration/support/{granted.pk}/end/")
    assert not is_signed_in(support, host_a)
    with schema_context("public"):
        assert SupportGrantSummary.objects.get().revoked_at is not None


def test_console_shows_staff_their_own_grants_and_nothing_else(
    client, people, staff, host_a, public_host
):
    grant(client, people, host_a)
    with schema_context("public"):
        other = make_user(username="ops2", email="ops2@foundation.example", is_staff=True)
    mine = signed_in(Client(), staff, schema="public", host=public_host)
    html = mine.get("/support-access/").content.decode()
    assert "Alphaland" in html and "support.ops" in html and "Read-only" in html
    assert "Store X" not in html and "manager-x" not in html
    theirs = signed_in(Client(), other, schema="public", host=public_host)
    assert "Alphaland" not in theirs.get("/support-access/").content.decode()
    # Not a page of a country host.
    assert Client().get("/support-access/", HTTP_HOST=host_a).status_code == 404


def test_a_grant_in_one_country_gives_nothing_in_another(client, people, staff, host_a, host_b):
    grant(client, people, host_a)
    with schema_context("xb"):
        assert not User.objects.filter(username="support.ops").exists()
    with schema_context("xa"):
        account = SupportGrant.objects.get().user
        account.set_password(PASSWORD)
        account.save()
    response = log_in(Client(), host_b, "support.ops", PASSWORD)
    assert response.status_code == 200
