"""User management by a country's administrators, through the real views."""

import re

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core import mail
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.roles import HQ_OFFICER, ROLES, STORE_MANAGER
from audit.models import AccessEvent
from tests.accounts.helpers import is_signed_in, log_in
from tests.administration.conftest import signed_in

pytestmark = pytest.mark.django_db
A = AccessEvent.Action

ADMIN_PAGES = [
    "/administration/",
    "/administration/users/",
    "/administration/users/invite/",
    "/administration/roles/",
    "/administration/roles/new/",
    "/administration/support/",
    "/administration/settings/",
    "/administration/activity/",
    "/administration/activity/export.csv",
    "/administration/changes/",
    "/administration/corrections/",
]


def role_group(key):
    return Group.objects.get(name=ROLES[key].name)


def admin_client(client, people, host_a, user=None):
    return signed_in(client, user or people.admin, schema="xa", host=host_a)


def test_user_list_shows_role_scope_last_login_and_state(client, people, host_a):
    admin_client(client, people, host_a)
    html = client.get("/administration/users/").content.decode()
    assert "manager-x" in html and "Store manager" in html and "Store X" in html
    assert "All sites" in html
    assert "admin-b" not in html  # country B's administrator


def test_invite_creates_an_account_without_password_and_mails_a_one_time_link(
    client, people, host_a, django_capture_on_commit_callbacks
):
    admin_client(client, people, host_a)
    with schema_context("xa"):
        store_manager = role_group(STORE_MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/administration/users/invite/",
            {
                "full_name": "Amina Store",
                "username": "amina",
                "email": "amina@example.org",
                "role": store_manager.pk,
                "sites": [people.site_y.pk],
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context("xa"):
        amina = User.objects.get(username="amina")
        assert not amina.has_usable_password()
        assert list(amina.scoped_sites.all()) == [people.site_y]
        assert not amina.all_sites
        invited = AccessEvent.objects.filter(action=A.USER_INVITED)
        assert invited.count() == 1
        assert invited[0].user == people.admin and invited[0].object_id == str(amina.pk)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["amina@example.org"]
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    assert host_a in link

    # The link's page refuses a weak password (Django's validators), then accepts a good one.
    other = client.__class__()
    path = link.split(host_a, 1)[1].split(":8000", 1)[-1]
    page = other.get(path, HTTP_HOST=host_a, follow=True)
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else path
    weak = other.post(
        form_url, {"password1": "password", "password2": "password"}, HTTP_HOST=host_a
    )
    assert weak.status_code == 200
    assert "too common" in weak.content.decode() or "too short" in weak.content.decode()
    with schema_context("xa"):
        assert not User.objects.get(username="amina").has_usable_password()
    good = "lion-river-mango-stone"
    done = other.post(form_url, {"password1": good, "password2": good}, HTTP_HOST=host_a)
    assert done.status_code == 302
    assert log_in(client.__class__(), host_a, "amina", good).status_code == 302


def test_invite_refuses_a_taken_username_and_sites_outside_the_admins_scope(client, people, host_a):
    admin_client(client, people, host_a, user=people.admin_x)
    with schema_context("xa"):
        manager = role_group(STORE_MANAGER)
    taken = client.post(
        "/administration/users/invite/",
        {
            "full_name": "X",
            "username": "manager-x",
            "email": "new@example.org",
            "role": manager.pk,
            "sites": [people.site_x.pk],
        },
    )
    assert "already taken" in taken.content.decode()
    # admin-x only sees site X: site Y is not even a choice.
    outside = client.post(
        "/administration/users/invite/",
        {
            "full_name": "Y",
            "username": "newbie",
            "email": "newbie@example.org",
            "role": manager.pk,
            "sites": [people.site_y.pk],
        },
    )
    assert outside.status_code == 200
    with schema_context("xa"):
        assert not User.objects.filter(username="newbie").exists()


def test_change_role_and_scope_is_recorded_with_before_and_after(client, people, host_a):
    admin_client(client, people, host_a)
    with schema_context("xa"):
        hq = role_group(HQ_OFFICER)
    response = client.post(
        f"/administration/users/{people.manager_x.pk}/",
        {"full_name": "Manager X", "role": hq.pk, "all_sites": "on"},
    )
    assert response.status_code == 302
    with schema_context("xa"):
        person = User.objects.get(pk=people.manager_x.pk)
        assert person.all_sites and list(person.groups.all()) == [hq]
        event = AccessEvent.objects.get(action=A.USER_CHANGED)
        assert event.details["before"]["sites"] == ["site-x"]
        assert event.details["after"] == {"role": ["HQ officer"], "all_sites": True, "sites": []}


def test_deactivated_user_cannot_sign_in_loses_sessions_and_keeps_history(client, people, host_a):
    from django.test import Client

    theirs = Client()
    signed_in(theirs, people.manager_x, schema="xa", host=host_a)
    assert is_signed_in(theirs, host_a)
    with schema_context("xa"):
        AccessEvent.objects.create(user=people.manager_x, username="manager-x", action=A.LOGIN)

    admin_client(client, people, host_a)
    confirm = client.get(f"/administration/users/{people.manager_x.pk}/deactivate/")
    assert "Yes, deactivate" in confirm.content.decode()
    client.post(f"/administration/users/{people.manager_x.pk}/deactivate/")

    with schema_context("xa"):
        person = User.objects.get(pk=people.manager_x.pk)
        assert not person.is_active and person.deactivated_at is not None
        # Their history stays, with their name.
        assert AccessEvent.objects.filter(user=person, action=A.LOGIN).exists()
        assert AccessEvent.objects.filter(action=A.USER_DEACTIVATED, object_id=str(person.pk))
    assert not is_signed_in(theirs, host_a)
    assert not is_signed_in(Client(), host_a)
    fresh = Client()
    log_in(fresh, host_a, "manager-x")
    assert not is_signed_in(fresh, host_a)
    listing = client.get("/administration/users/").content.decode()
    assert "manager-x" in listing and "Deactivated" in listing

    client.post(f"/administration/users/{people.manager_x.pk}/reactivate/")
    assert log_in(Client(), host_a, "manager-x").status_code == 302


def test_admin_cannot_deactivate_themselves(client, people, host_a):
    admin_client(client, people, host_a)
    client.post(f"/administration/users/{people.admin.pk}/deactivate/")
    with schema_context("xa"):
        assert User.objects.get(pk=people.admin.pk).is_active


def test_end_sessions_signs_the_user_out_of_this_country_only(client, people, host_a, host_b):
    from django.test import Client

    theirs = signed_in(Client(), people.manager_x, schema="xa", host=host_a)
    with schema_context("xb"):
        Session.objects.create(
            session_key="b" * 32, session_data="x", expire_date="2999-01-01T00:00Z"
        )
    admin_client(client, people, host_a)
    client.post(f"/administration/users/{people.manager_x.pk}/end-sessions/")
    assert not is_signed_in(theirs, host_a)
    with schema_context("xb"):
        assert Session.objects.filter(session_key="b" * 32).exists()
    with schema_context("xa"):
        event = AccessEvent.objects.get(action=A.SESSIONS_ENDED)
        assert event.details == {"count": 1}


def test_reset_two_factor_removes_the_devices(client, people, host_a):
    with schema_context("xa"):
        TOTPDevice.objects.create(user=people.manager_x, name="authenticator", confirmed=True)
        StaticDevice.objects.create(user=people.manager_x, name="backup", confirmed=True)
    admin_client(client, people, host_a)
    client.post(f"/administration/users/{people.manager_x.pk}/reset-2fa/")
    with schema_context("xa"):
        assert not TOTPDevice.objects.filter(user=people.manager_x).exists()
        assert not StaticDevice.objects.filter(user=people.manager_x).exists()
        assert AccessEvent.objects.filter(action=A.TWO_FACTOR_RESET).count() == 1


def test_custom_role_from_documented_permissions_only(client, people, host_a):
    from django.contrib.auth.models import Permission

    admin_client(client, people, host_a)
    with schema_context("xa"):
        view = Permission.objects.get(codename="view_stockitem")
        undocumented = Permission.objects.get(codename="delete_stockitem")
    refused = client.post(
        "/administration/roles/new/", {"name": "Reader", "permissions": [undocumented.pk]}
    )
    assert refused.status_code == 200
    made = client.post("/administration/roles/new/", {"name": "Reader", "permissions": [view.pk]})
    assert made.status_code == 302
    with schema_context("xa"):
        reader = Group.objects.get(name="Reader")
        assert list(reader.permissions.all()) == [view]
        assert AccessEvent.objects.filter(action=A.ROLE_SAVED).count() == 1
    # The new role can be given to someone.
    response = client.post(
        f"/administration/users/{people.hq.pk}/",
        {"full_name": "HQ", "role": reader.pk, "all_sites": "on"},
    )
    assert response.status_code == 302


@pytest.mark.parametrize("who", ["manager_x", "hq"])
def test_non_administrators_reach_no_administration_page(client, people, host_a, who):
    signed_in(client, getattr(people, who), schema="xa", host=host_a)
    for url in [*ADMIN_PAGES, f"/administration/users/{people.admin.pk}/"]:
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert b"admin-x" not in response.content


def test_another_countrys_administrator_sees_none_of_these_users(client, people, host_b):
    signed_in(client, people.admin_b, schema="xb", host=host_b)
    html = client.get("/administration/users/").content.decode()
    assert "admin-b" in html and "manager-x" not in html
    # Ids of country A's users mean nothing in country B.
    response = client.get(f"/administration/users/{people.manager_x.pk + 1000}/")
    assert response.status_code == 404


def test_every_administration_page_opens_for_an_administrator(client, people, host_a):
    admin_client(client, people, host_a)
    for url in ADMIN_PAGES:
        assert client.get(url).status_code == 200, url
    home = client.get("/").content.decode()
    assert 'href="/administration/"' in home


def test_a_custom_role_that_manages_users_requires_two_step_sign_in(people, country_a):
    from django.contrib.auth.models import Permission

    from accounts.selectors import two_factor_required
    from administration import services

    with schema_context("xa"):
        manage = Permission.objects.get(codename="manage_users")
        role = services.role_save(actor=people.admin, name="Deputy", permissions=[manage])
        deputy = User.objects.get(pk=people.hq.pk)
        deputy.groups.set([role])
        deputy = User.objects.get(pk=deputy.pk)  # fresh permission cache
        assert two_factor_required(user=deputy, country=country_a)
        plain = User.objects.get(pk=people.manager_x.pk)
        assert not two_factor_required(user=plain, country=country_a)
