"""Administration writes (country schema). Every function records what it did
in the access log, inside its own transaction: no change without its record.

Callers pass ``origin`` (audit.services.origin_of(request)) so the record
carries the administrator's address and browser; services never see requests.
"""

import datetime
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from accounts import management_scope
from accounts import services as account_services
from accounts.invitations import invitation_send
from accounts.permissions import require
from accounts.roles import ROLES, SUPPORT_FULL, SUPPORT_READ_ONLY
from audit.models import AccessEvent, SupportGrantSummary
from audit.services import Origin, event_record
from core import display
from core.errors import raise_errors
from core.text import text_errors
from stock.models import Site
from stock.scope import reach_of
from stock.services import corrections as stock_corrections
from tenants.current import country_zone

from . import selectors
from .models import SupportGrant

User = get_user_model()
A = AccessEvent.Action

MANAGE_USERS = "accounts.manage_users"
SUPPORT_ROLE_NAMES = {ROLES[SUPPORT_READ_ONLY].name, ROLES[SUPPORT_FULL].name}
BUILT_IN_ROLE_NAMES = {role.name for role in ROLES.values()}
MAX_SUPPORT_DAYS = 30
HAND_OUT_FIELDS = {"every_site": "all_sites"}


def _in_country() -> None:
    if connection.schema_name == get_public_schema_name():
        raise RuntimeError("Country administration runs in a country schema.")


def documented_permissions() -> list[Permission]:
    """The permissions custom roles are built from: those the built-in roles
    (documented in the README) use, and no other."""
    dotted = sorted(
        {
            p
            for key, role in ROLES.items()
            if key not in (SUPPORT_READ_ONLY, SUPPORT_FULL)
            for p in role.permissions
        }
    )
    query = Q(pk__in=[])
    for name in dotted:
        app_label, codename = name.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(query).select_related("content_type"))


def assignable_roles(*, actor=None) -> list[Group]:
    """Built-in roles and custom roles; support roles are given by grants only.
    With ``actor``: only the roles they may hand out (no permission above theirs)."""
    roles = Group.objects.exclude(name__in=SUPPORT_ROLE_NAMES).order_by("name")
    if actor is None:
        return list(roles)
    mine = reach_of(actor)
    return [r for r in roles if mine.covers_permissions(management_scope.role_permissions(r))]


def _scope_snapshot(user) -> dict:
    return {
        "role": sorted(user.groups.values_list("name", flat=True)),
        "all_sites": user.all_sites,
        "sites": sorted(user.scoped_sites.values_list("code", flat=True)),
    }


def _check_role(role: Group) -> Group:
    if role is None or role.name in SUPPORT_ROLE_NAMES:
        raise ValidationError({"role": [_("Choose a role.")]})
    return role


def _check_hand_out(actor, *, role: Group, all_sites: bool, sites) -> list[Site]:
    # Scope is a ceiling: only the actor's own sites, all sites only if they
    # have all sites, no permission above theirs (accounts.management_scope).
    sites = list(sites or [])
    errors = management_scope.hand_out_errors(
        reach_of(actor),
        permissions=management_scope.role_permissions(role),
        every_site=all_sites,
        site_ids=[site.pk for site in sites],
    )
    if errors:
        # The form's name for "every site" is all_sites.
        raise ValidationError({HAND_OUT_FIELDS.get(k, k): v for k, v in errors.items()})
    return sites


def _require_reach(actor, user) -> None:
    # Views answer 404 before this (administration.selectors.user_get); other
    # callers are refused here all the same.
    if not selectors.may_manage(actor=actor, user=user):
        raise PermissionDenied(_("This person is outside your scope."))


def _set_scope(user, *, role: Group, all_sites: bool, sites) -> None:
    user.groups.set([role])
    user.all_sites = all_sites
    user.save(update_fields=["all_sites"])
    user.scoped_sites.set([] if all_sites else sites)


# --- Users ------------------------------------------------------------------------


@transaction.atomic
def user_invite(
    *,
    actor,
    country,
    username: str,
    email: str,
    full_name: str,
    role: Group,
    all_sites: bool,
    sites=(),
    language: str = "",
    origin: Origin | None = None,
):
    """Create the account with no password and e-mail the one-time link
    where the person chooses one (and then sets up two-step sign-in)."""
    _in_country()
    require(actor, MANAGE_USERS)
    username = (username or "").strip()
    email = (email or "").strip()
    errors = {}
    if not username:
        errors["username"] = [_("Enter a username.")]
    elif management_scope.is_system_account(username):
        errors["username"] = [
            _("Usernames starting with “%(prefix)s” are kept for system accounts.")
            % {"prefix": management_scope.SYSTEM_ACCOUNT_PREFIX}
        ]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("This username is already taken.")]
    if not email:
        errors["email"] = [_("Enter the person's e-mail address: the invitation goes there.")]
    elif account_services.email_taken(email):
        errors["email"] = [_("Another account already uses this e-mail address.")]
    raise_errors(errors)
    _check_role(role)
    sites = _check_hand_out(actor, role=role, all_sites=all_sites, sites=sites)
    user = User(username=username, email=email, full_name=full_name.strip(), language=language)
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    _set_scope(user, role=role, all_sites=all_sites, sites=sites)
    invitation_send(user=user, country=country)
    event_record(
        user=actor, action=A.USER_INVITED, origin=origin, obj=user, details=_scope_snapshot(user)
    )
    return user


@transaction.atomic
def user_update(
    *,
    actor,
    user,
    role: Group,
    all_sites: bool,
    sites=(),
    full_name: str | None = None,
    origin: Origin | None = None,
) -> bool:
    """Change a user's role and site scope. Returns whether anything changed."""
    require(actor, MANAGE_USERS)
    _require_reach(actor, user)
    if user.pk == actor.pk:
        raise ValidationError({"role": [_("Ask another administrator to change your own role.")]})
    if user.support_grants.exists():
        raise ValidationError({"role": [_("Support accounts are changed from Support access.")]})
    _check_role(role)
    sites = _check_hand_out(actor, role=role, all_sites=all_sites, sites=sites)
    before = _scope_snapshot(user)
    before_name = user.full_name
    _set_scope(user, role=role, all_sites=all_sites, sites=sites)
    if full_name is not None and full_name.strip() != user.full_name:
        user.full_name = full_name.strip()
        user.save(update_fields=["full_name"])
    after = _scope_snapshot(user)
    if before == after and before_name == user.full_name:
        return False
    details = {"before": before, "after": after}
    if before_name != user.full_name:
        details["full_name"] = {"before": before_name, "after": user.full_name}
    event_record(user=actor, action=A.USER_CHANGED, origin=origin, obj=user, details=details)
    return True


def _sessions_of(user) -> list[Session]:
    # Sessions are per schema; this reads this country's only.
    key = str(user.pk)
    return [
        session
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") == key
    ]


def _end_sessions(user) -> int:
    sessions = _sessions_of(user)
    # Through the session engine: with cached_db it drops the cached copy as
    # well as the row (a row deleted alone would leave the session working).
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for session in sessions:
        store(session_key=session.session_key).delete()
    return len(sessions)


@transaction.atomic
def user_sessions_end(*, actor, user, origin: Origin | None = None) -> int:
    """Sign the user out everywhere (in this country). Returns how many sessions ended."""
    require(actor, MANAGE_USERS)
    _require_reach(actor, user)
    count = _end_sessions(user)
    event_record(
        user=actor, action=A.SESSIONS_ENDED, origin=origin, obj=user, details={"count": count}
    )
    return count


@transaction.atomic
def user_deactivate(*, actor, user, origin: Origin | None = None) -> None:
    """Close the account (never delete it: everything they did keeps their name)."""
    require(actor, MANAGE_USERS)
    _require_reach(actor, user)
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    if not user.is_active:
        return
    user.is_active = False
    user.deactivated_at = timezone.now()
    user.save(update_fields=["is_active", "deactivated_at"])
    count = _end_sessions(user)
    event_record(
        user=actor,
        action=A.USER_DEACTIVATED,
        origin=origin,
        obj=user,
        details={"sessions_ended": count},
    )


@transaction.atomic
def user_reactivate(*, actor, user, origin: Origin | None = None) -> None:
    require(actor, MANAGE_USERS)
    _require_reach(actor, user)
    if user.is_active:
        return
    user.is_active = True
    user.deactivated_at = None
    user.save(update_fields=["is_active", "deactivated_at"])
    event_record(user=actor, action=A.USER_REACTIVATED, origin=origin, obj=user)


@transaction.atomic
def user_two_factor_reset(*, actor, user, origin: Origin | None = None) -> None:
    """Lost phone: remove the app and backup codes; they set it up again at
    their next sign-in (required for administrators)."""
    require(actor, MANAGE_USERS)
    _require_reach(actor, user)
    account_services.two_factor_reset(user=user)
    event_record(user=actor, action=A.TWO_FACTOR_RESET, origin=origin, obj=user)


# --- Custom roles -------------------------------------------------------------------


@transaction.atomic
def role_save(
    *, actor, name: str, permissions, role: Group | None = None, origin: Origin | None = None
) -> Group:
    """Create or change a custom role from the documented permissions."""
    require(actor, MANAGE_USERS)
    name = " ".join((name or "").split())
    allowed = {p.pk: p for p in documented_permissions()}
    chosen = list(permissions or [])
    errors = {}
    if not name:
        errors["name"] = [_("Give the role a name.")]
    elif (
        name in BUILT_IN_ROLE_NAMES
        or (role is None or role.name != name)
        and (Group.objects.filter(name__iexact=name).exclude(pk=getattr(role, "pk", None)).exists())
    ):
        errors["name"] = [_("A role with this name already exists.")]
    if role is not None and role.name in BUILT_IN_ROLE_NAMES:
        errors["name"] = [_("Built-in roles cannot be changed here.")]
    if not chosen:
        errors["permissions"] = [_("Tick at least one permission.")]
    elif any(p.pk not in allowed for p in chosen):
        errors["permissions"] = [_("Only the listed permissions can be given.")]
    else:
        mine = reach_of(actor)
        if not mine.covers_permissions(f"{p.content_type.app_label}.{p.codename}" for p in chosen):
            errors["permissions"] = [
                _("You cannot give a role with permissions you do not have yourself.")
            ]
        elif role is not None and any(
            not management_scope.may_manage(mine, reach_of(holder))
            for holder in role.user_set.all()
        ):
            # Changing the role changes what its holders may do.
            errors["permissions"] = [
                _("People outside your scope have this role: ask an administrator of all sites.")
            ]
    raise_errors(errors)
    before = None
    if role is None:
        role = Group.objects.create(name=name)
    else:
        before = {
            "name": role.name,
            "permissions": sorted(
                f"{p.content_type.app_label}.{p.codename}" for p in role.permissions.all()
            ),
        }
        role.name = name
        role.save(update_fields=["name"])
    role.permissions.set(chosen)
    after = {
        "name": name,
        "permissions": sorted(f"{p.content_type.app_label}.{p.codename}" for p in chosen),
    }
    event_record(
        user=actor,
        action=A.ROLE_SAVED,
        origin=origin,
        obj=role,
        details={"before": before, "after": after},
    )
    return role


# --- Country settings ------------------------------------------------------------------


@transaction.atomic
def country_settings_update(
    *,
    actor,
    country,
    corrections_need_approval: bool,
    idle_session_minutes: int,
    origin: Origin | None = None,
) -> list[str]:
    """The settings a country's administrators own. The Country row is in the
    public schema, reachable from the country's search path."""
    require(actor, MANAGE_USERS)
    if not management_scope.may_change_country(reach_of(actor)):
        raise PermissionDenied(
            _("Only an administrator of all sites changes the country's settings.")
        )
    if not 5 <= idle_session_minutes <= 24 * 60:
        raise ValidationError(
            {"idle_session_minutes": [_("Choose between 5 minutes and 24 hours (1440).")]}
        )
    values = {
        "corrections_need_approval": corrections_need_approval,
        "idle_session_minutes": idle_session_minutes,
    }
    changed = {
        name: {"before": getattr(country, name), "after": value}
        for name, value in values.items()
        if getattr(country, name) != value
    }
    if changed:
        for name in changed:
            setattr(country, name, values[name])
        country.save(update_fields=list(changed))
        event_record(user=actor, action=A.SETTINGS_CHANGED, origin=origin, details=changed)
    return list(changed)


# --- Support access for platform staff ----------------------------------------------


def _staff_member(identifier: str):
    """The platform staff member (public schema) named by username or e-mail."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    with schema_context(get_public_schema_name()):
        staff = User.objects.filter(is_staff=True, is_active=True)
        return (
            staff.filter(username__iexact=identifier).first()
            or staff.filter(email__iexact=identifier).first()
        )


def _summary_write(grant: SupportGrant, *, country) -> None:
    # Same connection, same transaction: the summary and the grant commit or
    # roll back together.
    with schema_context(get_public_schema_name()):
        SupportGrantSummary.objects.update_or_create(
            country_code=country.code,
            grant_id=grant.pk,
            defaults={
                "country_name": country.name,
                "country_url": country.base_url,
                "staff_username": grant.staff_username,
                "support_username": grant.user.username,
                "read_only": grant.read_only,
                "valid_until": grant.valid_until,
                "revoked_at": grant.revoked_at,
                "granted_at": grant.granted_at,
            },
        )


@transaction.atomic
def support_grant(
    *,
    actor,
    country,
    staff: str,
    valid_until: datetime.datetime,
    read_only: bool = True,
    reason: str = "",
    origin: Origin | None = None,
) -> SupportGrant:
    """Give a named platform staff member a support account of this country
    until ``valid_until``. The staff member is e-mailed a one-time link to set
    its password on this country's host."""
    _in_country()
    require(actor, MANAGE_USERS)
    member = _staff_member(staff)
    errors = {}
    if member is None:
        errors["staff"] = [_("No platform staff member has this username or e-mail address.")]
    elif not member.email:
        errors["staff"] = [_("This staff member has no e-mail address for the link.")]
    elif account_services.email_taken(
        member.email,
        by_other_than=User.objects.filter(username=f"support.{member.username}"[:150]).first(),
    ):
        # An address is unique in the country: it signs in and resets passwords.
        errors["staff"] = [
            _("Another account of this country already uses this staff member's e-mail address.")
        ]
    now = timezone.now()
    if valid_until <= now:
        errors["valid_until"] = [_("Choose a time in the future.")]
    elif valid_until > now + datetime.timedelta(days=MAX_SUPPORT_DAYS):
        errors["valid_until"] = [
            _("Support access lasts at most %(days)s days.") % {"days": MAX_SUPPORT_DAYS}
        ]
    errors.update(text_errors(SupportGrant, reason=reason))  # core.text
    raise_errors(errors)
    role = Group.objects.get(name=ROLES[SUPPORT_READ_ONLY if read_only else SUPPORT_FULL].name)
    # A support account sees every site: the same ceiling as any hand-out.
    refused = management_scope.hand_out_errors(
        reach_of(actor),
        permissions=management_scope.role_permissions(role),
        every_site=True,
        site_ids=(),
    )
    if refused:
        raise ValidationError([m for messages in refused.values() for m in messages])
    username = f"support.{member.username}"[:150]
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(
            username=username,
            full_name=_("%(name)s (platform support)")
            % {"name": member.get_full_name() or member.full_name or member.username},
        )
    user.email = member.email
    user.is_active = True
    user.deactivated_at = None
    user.all_sites = True
    # A new grant means a new password: the link below is how it is chosen.
    user.set_unusable_password()
    user.save()
    user.groups.set([role])
    user.scoped_sites.clear()
    grant = SupportGrant.objects.create(
        user=user,
        staff_username=member.username,
        staff_email=member.email,
        read_only=read_only,
        valid_until=valid_until,
        reason=reason.strip(),
        granted_by=actor,
    )
    _summary_write(grant, country=country)
    invitation_send(user=user, country=country)
    event_record(
        user=actor,
        action=A.SUPPORT_GRANTED,
        origin=origin,
        obj=user,
        details={
            "grant": grant.pk,
            "staff": member.username,
            "read_only": read_only,
            "valid_until": valid_until.isoformat(),
        },
    )
    return grant


@transaction.atomic
def support_revoke(*, actor, country, grant: SupportGrant, origin: Origin | None = None) -> None:
    """End a grant now and sign its account out."""
    require(actor, MANAGE_USERS)
    _require_reach(actor, grant.user)
    grant = SupportGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.revoked_at is not None:
        return
    grant.revoked_at = timezone.now()
    grant.revoked_by = actor
    grant.save(update_fields=["revoked_at", "revoked_by"])
    if not support_account_valid(grant.user):
        _end_sessions(grant.user)
    _summary_write(grant, country=country)
    event_record(
        user=actor,
        action=A.SUPPORT_REVOKED,
        origin=origin,
        obj=grant.user,
        details={"grant": grant.pk, "staff": grant.staff_username},
    )


def support_account_valid(user) -> bool | None:
    """None for an ordinary account; for a support account, whether one of its
    grants is valid now. On the public host there are no support accounts."""
    if connection.schema_name == get_public_schema_name():
        return None
    grants = SupportGrant.objects.filter(user=user)
    if not grants.exists():
        return None
    return grants.filter(revoked_at__isnull=True, valid_until__gt=timezone.now()).exists()


def support_login_notify(*, user, country) -> int:
    """E-mail the country's administrators that a support account signed in."""
    grant = (
        SupportGrant.objects.filter(user=user, revoked_at__isnull=True)
        .order_by("-valid_until")
        .first()
    )
    recipients = selectors.administrator_addresses()
    if not recipients or grant is None:
        return 0
    with translation.override(country.default_language or settings.LANGUAGE_CODE):
        subject = _("Support access used on %(country)s") % {"country": country.name}
        body = _(
            "The platform staff member %(staff)s signed in to %(country)s with the "
            "support account %(account)s at %(time)s.\n\n"
            "The access is valid until %(until)s. Everything it does is in "
            "the access log. An administrator can end it at any time under "
            "Administration → Support access.\n"
        ) % {
            "staff": grant.staff_username,
            "country": country.name,
            "account": user.username,
            "time": display.when(timezone.now(), zone=country_zone()),
            "until": display.when(grant.valid_until, zone=country_zone()),
        }
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients))
    return len(recipients)


# --- Corrections waiting for approval ------------------------------------------------
#
# The correction path and its approval rule are stock's
# (stock.services.corrections); the approval pages call these two through
# here. Their access-log events are recorded by administration.signals.

correction_approve = stock_corrections.correction_approve
correction_reject = stock_corrections.correction_reject
