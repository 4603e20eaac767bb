"""Scope is a ceiling (issue 11, item 1): an administrator acts only on people
whose every site is within their own scope and who hold nothing above them,
and hands out only what they hold. Actor x target x action, through the real
pages, then the same through the services, then the attacks that found it."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.roles import AUDITOR, HQ_OFFICER, ROLES, SMS_ADMINISTRATOR, STORE_MANAGER
from administration import services
from administration.models import SupportGrant
from audit.models import AccessEvent
from tests.administration.conftest import signed_in
from tests.factories import make_user

pytestmark = pytest.mark.django_db
A = AccessEvent.Action

ACTORS = ["national_admin", "admin_x", "admin_y"]
TARGETS = ["other_national_admin", "hq_all_sites", "manager_x", "manager_y", "auditor"]
ACTIONS = ["view", "update", "deactivate", "reactivate", "reset-2fa", "end-sessions"]

# The rule, written out: who may act on whom (every action alike).
ALLOWED = {
    "national_admin": set(TARGETS),
    "admin_x": {"manager_x"},  # an administrator of store X only
    "admin_y": {"manager_y"},  # an administrator of store Y only
}


def group(key):
    return Group.objects.get(name=ROLES[key].name)


@pytest.fixture
def cast(people):
    """Everyone of the matrix, in country A (people.site_x / site_y)."""
    with schema_context("xa"):
        return {
            "national_admin": people.admin,
            "admin_x": people.admin_x,
            "admin_y": make_user(username="admin-y", role=SMS_ADMINISTRATOR, sites=[people.site_y]),
            "other_national_admin": make_user(
                username="admin-n", role=SMS_ADMINISTRATOR, all_sites=True
            ),
            "hq_all_sites": people.hq,
            "manager_x": people.manager_x,
            "manager_y": people.manager_y,
            "auditor": make_user(username="auditor", role=AUDITOR, all_sites=True),
        }


def scope_form(person) -> dict:
    """The person's own role and sites as the edit form posts them."""
    data = {"full_name": "Renamed", "role": person.groups.get().pk}
    if person.all_sites:
        data["all_sites"] = "on"
    else:
        data["sites"] = [site.pk for site in person.scoped_sites.all()]
    return data


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("actor_name", ACTORS)
def test_each_action_on_each_person_through_the_pages(client, cast, host_a, actor_name, action):
    # One test per actor and action; the five targets are different people,
    # so acting on one leaves the others as they were.
    actor = cast[actor_name]
    signed_in(client, actor, schema="xa", host=host_a)
    for target_name in TARGETS:
        target = cast[target_name]
        allowed = target_name in ALLOWED[actor_name]
        case = f"{actor_name} {action} {target_name}"
        url = f"/administration/users/{target.pk}/"
        with schema_context("xa"):
            if action == "reactivate":
                User.objects.filter(pk=target.pk).update(is_active=False)
            if action == "reset-2fa":
                TOTPDevice.objects.create(user=target, name="authenticator", confirmed=True)
            form = scope_form(target)

        if action == "view":
            response = client.get(url)
        elif action == "update":
            response = client.post(url, form)
        else:
            # The confirmation page first, then the action itself.
            confirm = client.get(f"{url}{action}/")
            assert confirm.status_code == (200 if allowed else 404), case
            response = client.post(f"{url}{action}/")
        # Outside reach: as if the person did not exist.
        expected = 404 if not allowed else 200 if action == "view" else 302
        assert response.status_code == expected, case

        with schema_context("xa"):
            person = User.objects.get(pk=target.pk)
            done = {
                "view": allowed,  # nothing changes; the status says it all
                "update": person.full_name == "Renamed",
                "deactivate": not person.is_active,
                "reactivate": person.is_active,
                "reset-2fa": not TOTPDevice.objects.filter(user=target).exists(),
                "end-sessions": AccessEvent.objects.filter(
                    action=A.SESSIONS_ENDED, object_id=str(target.pk)
                ).exists(),
            }[action]
        assert done == allowed, case


SERVICES = {
    "update": lambda actor, user: services.user_update(
        actor=actor,
        user=user,
        role=user.groups.get(),
        all_sites=user.all_sites,
        sites=list(user.scoped_sites.all()),
        full_name="Renamed",
    ),
    "deactivate": lambda actor, user: services.user_deactivate(actor=actor, user=user),
    "reactivate": lambda actor, user: services.user_reactivate(actor=actor, user=user),
    "reset-2fa": lambda actor, user: services.user_two_factor_reset(actor=actor, user=user),
    "end-sessions": lambda actor, user: services.user_sessions_end(actor=actor, user=user),
}


@pytest.mark.parametrize("action", list(SERVICES))
def test_the_services_refuse_the_same_as_the_pages(cast, action):
    # Other callers than the pages (a command, a task) meet the same rule.
    with schema_context("xa"):
        for actor_name in ACTORS:
            for target_name in TARGETS:
                actor = User.objects.get(pk=cast[actor_name].pk)
                target = User.objects.get(pk=cast[target_name].pk)
                if target_name in ALLOWED[actor_name]:
                    SERVICES[action](actor, target)
                else:
                    with pytest.raises(PermissionDenied):
                        SERVICES[action](actor, target)


def test_a_deactivated_national_administrator_stays_out_of_a_store_administrators_reach(
    client, cast, host_a
):
    # Django says an inactive account holds no permission; the rule does not.
    with schema_context("xa"):
        User.objects.filter(pk=cast["other_national_admin"].pk).update(is_active=False)
    signed_in(client, cast["admin_x"], schema="xa", host=host_a)
    url = f"/administration/users/{cast['other_national_admin'].pk}/reactivate/"
    assert client.post(url).status_code == 404
    with schema_context("xa"):
        assert not User.objects.get(pk=cast["other_national_admin"].pk).is_active


def test_the_people_page_lists_only_the_people_in_reach(client, cast, host_a):
    signed_in(client, cast["admin_x"], schema="xa", host=host_a)
    html = client.get("/administration/users/").content.decode()
    for shown in ("manager-x", "admin-x"):
        assert f"<td>{shown}</td>" in html
    for hidden in ("manager-y", "admin-y", "admin-n", "auditor", "hq", "admin"):
        assert f"<td>{hidden}</td>" not in html
    assert "every site is among yours" in html
    signed_in(client, cast["national_admin"], schema="xa", host=host_a)
    html = client.get("/administration/users/").content.decode()
    for shown in ("manager-x", "manager-y", "admin-y", "admin-n", "auditor", "hq"):
        assert f"<td>{shown}</td>" in html


# --- The attacks that found it (issue 11), by HTTP -------------------------------------


def test_a_store_administrator_cannot_invite_a_national_administrator(client, cast, host_a):
    signed_in(client, cast["admin_x"], schema="xa", host=host_a)
    with schema_context("xa"):
        admin_role = group(SMS_ADMINISTRATOR)
    response = client.post(
        "/administration/users/invite/",
        {
            "full_name": "Mallory",
            "username": "mallory",
            "email": "mallory@example.org",
            "role": admin_role.pk,
            "all_sites": "on",
        },
    )
    assert response.status_code == 200
    assert "Only an administrator of all sites can give all sites" in response.content.decode()
    with schema_context("xa"):
        assert not User.objects.filter(username="mallory").exists()


def test_a_store_administrator_cannot_turn_the_auditor_into_an_all_sites_hq_officer(
    client, cast, host_a
):
    signed_in(client, cast["admin_x"], schema="xa", host=host_a)
    with schema_context("xa"):
        hq_role = group(HQ_OFFICER)
    auditor = cast["auditor"]
    response = client.post(
        f"/administration/users/{auditor.pk}/",
        {"full_name": "Auditor", "role": hq_role.pk, "all_sites": "on"},
    )
    assert response.status_code == 404
    # Nor their own store manager.
    response = client.post(
        f"/administration/users/{cast['manager_x'].pk}/",
        {"full_name": "Manager X", "role": hq_role.pk, "all_sites": "on"},
    )
    assert response.status_code == 200
    assert "Only an administrator of all sites can give all sites" in response.content.decode()
    with schema_context("xa"):
        assert list(User.objects.get(pk=auditor.pk).groups.all()) == [group(AUDITOR)]
        manager = User.objects.get(pk=cast["manager_x"].pk)
        assert not manager.all_sites and list(manager.groups.all()) == [group(STORE_MANAGER)]
        assert not AccessEvent.objects.filter(action=A.USER_CHANGED).exists()


def test_a_store_administrator_cannot_reset_the_national_administrators_two_step_sign_in(
    client, cast, host_a
):
    national = cast["national_admin"]
    with schema_context("xa"):
        TOTPDevice.objects.create(user=national, name="authenticator", confirmed=True)
    signed_in(client, cast["admin_x"], schema="xa", host=host_a)
    assert client.get(f"/administration/users/{national.pk}/reset-2fa/").status_code == 404
    assert client.post(f"/administration/users/{national.pk}/reset-2fa/").status_code == 404
    with schema_context("xa"):
        assert TOTPDevice.objects.filter(user=national, name="authenticator").exists()
        assert not AccessEvent.objects.filter(action=A.TWO_FACTOR_RESET).exists()


# --- What may be handed out -------------------------------------------------------------


def test_a_store_administrator_may_make_a_peer_for_their_own_store_only(cast, country_a):
    with schema_context("xa"):
        admin_role = group(SMS_ADMINISTRATOR)
        actor = User.objects.get(pk=cast["admin_x"].pk)
        site_x = actor.scoped_sites.get()
        peer = services.user_invite(
            actor=actor,
            country=country_a,
            username="peer-x",
            email="peer-x@example.org",
            full_name="Peer",
            role=admin_role,
            all_sites=False,
            sites=[site_x],
        )
        assert list(peer.scoped_sites.all()) == [site_x]
        other_site = cast["manager_y"].scoped_sites.get()
        with pytest.raises(ValidationError) as refused:
            services.user_invite(
                actor=actor,
                country=country_a,
                username="peer-y",
                email="peer-y@example.org",
                full_name="Peer",
                role=admin_role,
                all_sites=False,
                sites=[other_site],
            )
        assert "sites" in refused.value.message_dict


def test_a_role_with_permissions_the_administrator_lacks_cannot_be_given(
    client, cast, country_a, host_a
):
    # A deputy who may manage people, and nothing else, for every site.
    with schema_context("xa"):
        manage = Permission.objects.get(codename="manage_users")
        deputy_role = services.role_save(
            actor=cast["national_admin"], name="Deputy", permissions=[manage]
        )
        deputy = make_user(username="deputy", all_sites=True)
        deputy.groups.set([deputy_role])
        deputy = User.objects.get(pk=deputy.pk)
        # The working roles, yes (managing people means giving them).
        services.user_invite(
            actor=deputy,
            country=country_a,
            username="worker",
            email="worker@example.org",
            full_name="Worker",
            role=group(STORE_MANAGER),
            all_sites=True,
        )
        with pytest.raises(ValidationError) as refused:
            services.user_invite(
                actor=deputy,
                country=country_a,
                username="boss",
                email="boss@example.org",
                full_name="Boss",
                role=group(SMS_ADMINISTRATOR),
                all_sites=True,
            )
        assert "permissions you do not have" in refused.value.message_dict["role"][0]
        # Nor act on an administrator, whose permissions are above theirs.
        with pytest.raises(PermissionDenied):
            services.user_two_factor_reset(actor=deputy, user=cast["other_national_admin"])
        # Nor write such a role themselves.
        approve = Permission.objects.get(codename="approve_correction")
        with pytest.raises(ValidationError):
            services.role_save(actor=deputy, name="Approver", permissions=[approve])
    # The invite form offers only the roles they may give.
    signed_in(client, deputy, schema="xa", host=host_a)
    html = client.get("/administration/users/invite/").content.decode()
    assert "Store manager" in html and "SMS administrator" not in html


def test_a_custom_role_held_by_people_outside_reach_cannot_be_changed(cast):
    with schema_context("xa"):
        view = Permission.objects.get(codename="view_stockitem")
        register = Permission.objects.get(codename="register_item")
        role = services.role_save(actor=cast["national_admin"], name="Clerk", permissions=[view])
        cast["manager_y"].groups.set([role])
        with pytest.raises(ValidationError) as refused:
            services.role_save(
                actor=cast["admin_x"], role=role, name="Clerk", permissions=[view, register]
            )
        assert "outside your scope" in refused.value.message_dict["permissions"][0]
        assert list(Group.objects.get(pk=role.pk).permissions.all()) == [view]


def test_support_access_is_for_administrators_of_all_sites(client, people, cast, host_a):
    staff = make_user(username="ops", email="ops@foundation.example", is_staff=True)  # public
    signed_in(client, cast["admin_x"], schema="xa", host=host_a)
    response = client.post(
        "/administration/support/",
        {"staff": staff.username, "days": 2, "reason": "Help", "read_only": "on"},
    )
    assert "Only an administrator of all sites can give all sites" in response.content.decode()
    with schema_context("xa"):
        assert not SupportGrant.objects.exists()
        support = make_user(username="support.ops", all_sites=True)
        support.groups.set([group("support_read_only")])
        grant = SupportGrant.objects.create(
            user=support,
            staff_username="ops",
            staff_email="ops@foundation.example",
            valid_until=timezone.now() + datetime.timedelta(days=1),
            granted_by=cast["national_admin"],
        )
    assert "support.ops" not in client.get("/administration/support/").content.decode()
    assert client.post(f"/administration/support/{grant.pk}/end/").status_code == 404
    with schema_context("xa"):
        assert SupportGrant.objects.get(pk=grant.pk).revoked_at is None


def test_country_settings_are_read_only_for_an_administrator_of_some_sites(client, cast, host_a):
    signed_in(client, cast["admin_x"], schema="xa", host=host_a)
    page = client.get("/administration/settings/")
    assert page.status_code == 200
    assert "only an administrator of all sites can change them" in page.content.decode()
    response = client.post(
        "/administration/settings/", {"idle_session_minutes": 600, "corrections_need_approval": ""}
    )
    assert response.status_code == 403
    signed_in(client, cast["national_admin"], schema="xa", host=host_a)
    response = client.post("/administration/settings/", {"idle_session_minutes": 30})
    assert response.status_code == 302


# --- System accounts: nobody's to manage ---------------------------------------------


@pytest.fixture
def provisioning_account(cast):
    """The account provisioning writes its changes as (site-less, no role)."""
    from provisioning.services import PROVISIONING_USERNAME, _provisioning_account

    with schema_context("xa"):
        account = _provisioning_account()
    assert account.username == PROVISIONING_USERNAME
    return account


@pytest.mark.parametrize("actor_name", ACTORS)
def test_no_administrator_may_act_on_a_system_account(
    client, cast, host_a, provisioning_account, actor_name
):
    # Site-less and role-less, it was within every administrator's sites.
    signed_in(client, cast[actor_name], schema="xa", host=host_a)
    url = f"/administration/users/{provisioning_account.pk}/"
    assert client.get(url).status_code == 404
    with schema_context("xa"):
        form = {"full_name": "Renamed", "role": group(HQ_OFFICER).pk, "all_sites": "on"}
    assert client.post(url, form).status_code == 404
    for action in ACTIONS[2:]:
        assert client.get(f"{url}{action}/").status_code == 404, action
        assert client.post(f"{url}{action}/").status_code == 404, action
    html = client.get("/administration/users/").content.decode()
    assert "_provisioning" not in html
    with schema_context("xa"):
        account = User.objects.get(pk=provisioning_account.pk)
        assert (account.full_name, account.is_active) == (
            provisioning_account.full_name,
            False,
        )
        assert not account.groups.exists()
        actor = User.objects.get(pk=cast[actor_name].pk)
        for name, action in SERVICES.items():
            if name == "update":
                continue  # it has no role to keep
            with pytest.raises(PermissionDenied):
                action(actor, account)
        with pytest.raises(PermissionDenied):
            services.user_update(
                actor=actor, user=account, role=group(HQ_OFFICER), all_sites=True, full_name="x"
            )


def test_no_invitation_may_take_a_system_accounts_name(cast, country_a):
    with schema_context("xa"):
        with pytest.raises(ValidationError) as exc:
            services.user_invite(
                actor=User.objects.get(pk=cast["national_admin"].pk),
                country=country_a,
                username="_odk",
                email="odk@example.org",
                full_name="Looks like the system",
                role=group(STORE_MANAGER),
                all_sites=True,
            )
    assert "kept for system accounts" in str(exc.value)
