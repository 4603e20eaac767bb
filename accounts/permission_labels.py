"""What each permission lets a person do, in the user's language.

Django keeps a permission's name in the database in English ("Can view stock
item"); pages show these labels instead (roles, the role form), and the name
only for a permission not listed here.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

LABELS = {
    "accounts.manage_users": _("Manage people, roles and support access"),
    "accounts.view_access_log": _("See the access log and the changes"),
    "administration.approve_correction": _("Approve corrections"),
    "stock.view_site": _("See stores"),
    "stock.add_site": _("Add stores"),
    "stock.change_site": _("Change stores"),
    "stock.view_customfielddefinition": _("See custom fields"),
    "stock.add_customfielddefinition": _("Add custom fields"),
    "stock.change_customfielddefinition": _("Change custom fields"),
    "stock.view_stockitem": _("See items"),
    "stock.view_original_photo": _("See original photos (with their position)"),
    "stock.register_item": _("Register items"),
    "stock.correct_item": _("Correct items"),
    "stock.archive_item": _("Archive items"),
    "odk.manage_odk": _("Manage ODK Collect"),
    "custody.dispatch_transfer": _("Prepare and dispatch transfers"),
    "custody.receive_transfer": _("Receive transfers"),
    "custody.run_stocktake": _("Run stock-takes"),
    "custody.resolve_discrepancy": _("Resolve discrepancies"),
    "custody.verify_ledger": _("Check the custody ledger"),
    "reporting.view_reports": _("See reports"),
    "reporting.export_reports": _("Export reports"),
    "reporting.file_cites_declaration": _("File CITES declarations"),
}


def permission_label(permission) -> str:
    """The label of a Permission (or of "app.codename") in the user's language."""
    if isinstance(permission, str):
        dotted, name = permission, permission
    else:
        dotted = f"{permission.content_type.app_label}.{permission.codename}"
        name = permission.name
    label = LABELS.get(dotted)
    return str(label) if label is not None else gettext(name)
