"""The main menu of every signed-in page, written in Python.

It names up to a dozen pages, each behind a permission: as a template
(``{% url %}`` and ``perms`` for each link) it cost ~0.4 ms of every
request. Here the links a set of permissions shows are written once per
language, URL configuration (a country's or the platform's) and script
prefix, and kept: a page then asks ~10 permissions of the user's cached set
(accounts.backends) and looks its menu up.
"""

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core import markup

register = template.Library()

# A country's menu, in order: (URL name, label, the permissions of which
# the user needs any one; none: everyone signed in).
COUNTRY_MENU = (
    ("home", _("Dashboard"), ()),
    ("stock:item_list", _("Items"), ("stock.view_stockitem",)),
    ("stock:item_register", _("Register an item"), ("stock.register_item",)),
    ("stock:archive_list", _("Archive"), ("stock.view_stockitem",)),
    ("stock:marks_to_do", _("Marks to do"), ("stock.view_stockitem",)),
    ("custody:transfer_list", _("Transfers"), ("stock.view_stockitem",)),
    ("custody:stocktake_list", _("Stock-takes"), ("stock.view_stockitem",)),
    ("custody:ledger_check", _("Ledger check"), ("custody.verify_ledger",)),
    ("reporting:home", _("Reports"), ("reporting.view_reports",)),
    ("stock:custom_field_list", _("Custom fields"), ("stock.change_customfielddefinition",)),
    ("imports:home", _("Import a register"), ("imports.import_register",)),
    ("odk:overview", _("ODK"), ("odk.manage_odk",)),
    (
        "administration:home",
        _("Administration"),
        (
            "accounts.manage_users",
            "accounts.view_access_log",
            "administration.approve_correction",
        ),
    ),
)
# The platform's staff console (the public host).
CONSOLE_MENU = (
    ("console", _("Countries"), ()),
    ("my_support_grants", _("My support access"), ()),
)

_written: dict[tuple, str] = {}


def _menu_html(menu, shown: tuple[bool, ...]) -> str:
    key = (get_language(), get_urlconf(), get_script_prefix(), id(menu), shown)
    html = _written.get(key)
    if html is None:
        if len(_written) > 1000:  # the script prefix comes from the request's server
            _written.clear()
        html = _written[key] = "".join(
            markup.format_html('<a href="{}">{}</a>', reverse(name), label)
            for (name, label, _perms), show in zip(menu, shown, strict=True)
            if show
        )
    return html


@register.simple_tag(takes_context=True)
def main_menu(context) -> str:
    """The links of the pages the signed-in user may open: a country's
    pages on a country's host, the console's on the platform's."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return ""
    menu = COUNTRY_MENU if context.get("country") else CONSOLE_MENU
    shown = tuple(not perms or any(user.has_perm(p) for p in perms) for _n, _l, perms in menu)
    return mark_safe(_menu_html(menu, shown))  # noqa: S308 - every link made by format_html
