"""The roles seeded in every country, with their permission sets.

A role is a Django group. Changing a set here and re-running provisioning (or
``roles_sync``) updates every country's groups. The README documents these.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Role:
    key: str
    name: str  # group name, stable: never translated in the database
    label: object
    description: object
    permissions: tuple[str, ...]
    requires_two_factor: bool = False


SMS_ADMINISTRATOR = "sms_administrator"
HQ_OFFICER = "hq_officer"
STORE_MANAGER = "store_manager"
AUDITOR = "auditor"
# Given only through a support grant to platform staff (administration app).
SUPPORT_READ_ONLY = "support_read_only"
SUPPORT_FULL = "support_full"

ROLES: dict[str, Role] = {
    SMS_ADMINISTRATOR: Role(
        key=SMS_ADMINISTRATOR,
        name="SMS administrator",
        label=_("SMS administrator"),
        description=_(
            "Manages users, roles, site scopes, custom fields and ODK; sees every change."
        ),
        permissions=(
            "accounts.manage_users",
            "accounts.view_access_log",
            "administration.approve_correction",
            "stock.view_site",
            "stock.add_site",
            "stock.change_site",
            "stock.view_customfielddefinition",
            "stock.add_customfielddefinition",
            "stock.change_customfielddefinition",
            "stock.view_stockitem",
            "stock.view_original_photo",
            "odk.manage_odk",
            "custody.resolve_discrepancy",
            "custody.verify_ledger",
            "reporting.view_reports",
            "reporting.export_reports",
            "imports.import_register",
        ),
        requires_two_factor=True,
    ),
    HQ_OFFICER: Role(
        key=HQ_OFFICER,
        name="HQ officer",
        label=_("HQ officer"),
        description=_("Reads dashboards, items and reports for the sites in scope."),
        permissions=(
            "stock.view_site",
            "stock.view_stockitem",
            "reporting.view_reports",
            "reporting.export_reports",
            # Files the CITES declarations (the Management Authority's officer).
            "reporting.file_cites_declaration",
        ),
    ),
    STORE_MANAGER: Role(
        key=STORE_MANAGER,
        name="Store manager",
        label=_("Store manager"),
        description=_("Registers, corrects and moves items of the sites in scope."),
        permissions=(
            "stock.view_site",
            "stock.view_stockitem",
            "stock.register_item",
            "stock.correct_item",
            "stock.archive_item",
            "custody.dispatch_transfer",
            "custody.receive_transfer",
            "custody.run_stocktake",
            "reporting.view_reports",
            "reporting.export_reports",
        ),
    ),
    AUDITOR: Role(
        key=AUDITOR,
        name="Auditor",
        label=_("Auditor"),
        description=_("Read-only; runs stock-takes and integrity checks."),
        permissions=(
            "stock.view_site",
            "stock.view_stockitem",
            "stock.view_original_photo",
            "custody.run_stocktake",
            "custody.verify_ledger",
            "reporting.view_reports",
            "reporting.export_reports",
        ),
    ),
    SUPPORT_READ_ONLY: Role(
        key=SUPPORT_READ_ONLY,
        name="Support (read-only)",
        label=_("Platform support (read-only)"),
        description=_("A platform staff member helping for a limited time; sees, changes nothing."),
        permissions=("stock.view_site", "stock.view_stockitem", "stock.view_customfielddefinition"),
        requires_two_factor=True,
    ),
    SUPPORT_FULL: Role(
        key=SUPPORT_FULL,
        name="Support (with changes)",
        label=_("Platform support (with changes)"),
        description=_(
            "A platform staff member helping for a limited time; may also correct items "
            "and custom fields, never users."
        ),
        permissions=(
            "stock.view_site",
            "stock.view_stockitem",
            "stock.correct_item",
            "stock.view_customfielddefinition",
            "stock.change_customfielddefinition",
        ),
        requires_two_factor=True,
    ),
}


# The permissions that make an account an administrator's, the one list:
# whoever holds any of them — through a built-in role, a custom role or their
# own grant — must use two-step sign-in (accounts.selectors.two_factor_required),
# on every request of the session (accounts.middleware). Every permission of
# the SMS administrator's role that no working role (HQ officer, store
# manager, auditor) holds is here, seeing the custom fields aside
# (tests/accounts/test_session_security.py).
SENSITIVE_PERMISSIONS = frozenset(
    {
        "accounts.manage_users",
        "accounts.view_access_log",
        "administration.approve_correction",
        "stock.add_site",
        "stock.change_site",
        "stock.add_customfielddefinition",
        "stock.change_customfielddefinition",
        "odk.manage_odk",
        "custody.resolve_discrepancy",
        "imports.import_register",
    }
)


def role_of(user) -> Role | None:
    """The user's role (the first of their groups that is a known role)."""
    from .backends import group_names

    names = {role.name: role for role in ROLES.values()}
    for group_name in group_names(user):
        if group_name in names:
            return names[group_name]
    return None
