"""Scope is a ceiling: may administrator A manage person B, and may A hand
out this role, these sites, all sites (both schemas; used in country schemas).

The one rule (README, "Roles"): an administrator acts only on people whose
every site is within their own scope and who hold nothing the administrator
could not give; they hand out only their own sites, all sites only if they
have all sites, and no permission they lack — except the working permissions
(those of the HQ officer, store manager and auditor roles), which managing
people means handing out.

Bottom layer: site scope is read by stock.scope, which accounts must not
import. So the rule works on a ``Reach`` — what an account holds, as plain
data — and stock.scope.reach_of builds one from a user and the sites they
were given.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from .roles import AUDITOR, HQ_OFFICER, ROLES, STORE_MANAGER

MANAGE_USERS = "accounts.manage_users"

# System accounts (e.g. provisioning's ``_provisioning``, the author of what
# the protocol file changed) are named with this prefix, which no invitation
# may use (administration.services.user_invite). They are nobody's to manage:
# no administrator may rename, re-role, reactivate or sign them in, whatever
# their sites (a site-less account is within everyone's sites).
SYSTEM_ACCOUNT_PREFIX = "_"


def is_system_account(username: str) -> bool:
    return (username or "").startswith(SYSTEM_ACCOUNT_PREFIX)


# What any administrator may give within their sites: the work of the stores,
# HQ and auditors. Everything else (managing people, the access log,
# approvals, sites, custom fields, ODK, support...) only who holds it.
WORKING_PERMISSIONS = frozenset(
    perm for key in (HQ_OFFICER, STORE_MANAGER, AUDITOR) for perm in ROLES[key].permissions
)


@dataclass(frozen=True)
class Reach:
    """What an account holds: its permissions and the sites it was given."""

    permissions: frozenset[str]
    every_site: bool  # given all sites (User.all_sites, read by stock.scope)
    site_ids: frozenset[int]
    superuser: bool = False
    active: bool = True
    system: bool = False  # a system account (is_system_account)

    @property
    def manages_people(self) -> bool:
        return self.active and (self.superuser or MANAGE_USERS in self.permissions)

    def ceiling(self) -> frozenset[str]:
        """The permissions this administrator may hand out."""
        return self.permissions | WORKING_PERMISSIONS

    def covers_sites(self, *, every_site: bool, site_ids) -> bool:
        if self.every_site or self.superuser:
            return True
        return not every_site and frozenset(site_ids) <= self.site_ids

    def covers_permissions(self, permissions, *, superuser: bool = False) -> bool:
        if self.superuser:
            return True
        return not superuser and frozenset(permissions) <= self.ceiling()


def permissions_of(user) -> frozenset[str]:
    """ "app_label.codename" of every permission ``user`` holds through their
    roles and their own grants — whether or not the account is active (a
    deactivated national administrator is still out of a store administrator's
    reach; Django's has_perm says an inactive account holds nothing).
    Reads through .all(), so prefetched groups and permissions are used."""
    held = set()
    for group in user.groups.all():
        held.update(f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all())
    held.update(f"{p.content_type.app_label}.{p.codename}" for p in user.user_permissions.all())
    return frozenset(held)


def reach_of(user, *, every_site: bool, site_ids) -> Reach:
    """``user``'s reach, given the sites they were given (stock.scope.reach_of)."""
    return Reach(
        permissions=permissions_of(user),
        every_site=bool(every_site),
        site_ids=frozenset(site_ids),
        superuser=bool(user.is_superuser),
        active=bool(user.is_active),
        system=is_system_account(user.get_username()),
    )


def within_reach(actor: Reach, target: Reach) -> bool:
    """Every site of ``target`` is one of ``actor``'s, and ``target`` holds
    nothing above ``actor`` (no permission ``actor`` could not give)."""
    return actor.covers_sites(
        every_site=target.every_site, site_ids=target.site_ids
    ) and actor.covers_permissions(target.permissions, superuser=target.superuser)


def may_manage(actor: Reach, target: Reach) -> bool:
    """The one answer to "may this administrator act on this person": see,
    change, deactivate, reactivate, reset the two-step sign-in of, sign out.
    Peers (same permissions, sites within) manage each other. A system
    account is nobody's to manage."""
    return actor.manages_people and not target.system and within_reach(actor, target)


def hand_out_errors(actor: Reach, *, permissions, every_site: bool, site_ids) -> dict:
    """What ``actor`` may not give of this role (its ``permissions``), all
    sites (``every_site``) and these sites, as errors keyed "role",
    "every_site" and "sites" (empty: all of it may be given)."""
    errors = {}
    if not actor.manages_people:
        errors["role"] = [_("You are not allowed to do this.")]
        return errors
    if not actor.covers_permissions(permissions):
        errors["role"] = [_("You cannot give a role with permissions you do not have yourself.")]
    if every_site and not actor.covers_sites(every_site=True, site_ids=()):
        errors["every_site"] = [_("Only an administrator of all sites can give all sites.")]
    elif not every_site and not actor.covers_sites(every_site=False, site_ids=site_ids):
        errors["sites"] = [_("Choose among the sites you can see.")]
    return errors


def may_change_country(actor: Reach) -> bool:
    """Country-wide settings reach every store: only an administrator of all sites."""
    return actor.manages_people and (actor.every_site or actor.superuser)


def role_permissions(role) -> frozenset[str]:
    """ "app_label.codename" of a role's (a group's) permissions."""
    return frozenset(
        f"{p.content_type.app_label}.{p.codename}"
        for p in role.permissions.select_related("content_type")
    )
