"""What each view shows, declared on the view, for the access log.

Every view of SMS carries exactly one declaration:

    @logs_access(AccessAction.ITEM_VIEW)
    @login_required
    def item_detail(request, item_id):
        item = selectors.item_get(user=request.user, item_id=item_id)
        access_shows(request, obj=item)  # optional: which object, which filters
        ...

    @access_exempt("a form to register a new item: shows nothing stored")
    @login_required
    def item_register(request): ...

The declaration only *says* what the view shows. ``audit.middleware.
AccessLogMiddleware`` (the top layer) reads it and writes one access-log row
for every successful answer (2xx) to a signed-in user, with the client
address of ``core.origin``. A view cannot forget to log: the row does not
depend on a call in its body, and ``tests/audit/test_checks.py`` fails
for any URL whose view has no declaration (the ``audit`` system check says
the same at start-up). ``access_shows`` only adds what was seen (the item,
the filters of a list); without it a list's query string is its details.

The actions are the enum below, which ``audit.models.AccessEvent`` uses as its
choices: core imports no app, so the enum lives here and the decorator takes
nothing else.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext_lazy as _

DECLARATION_ATTRIBUTE = "sms_access"
SHOWN_ATTRIBUTE = "sms_access_shown"
DETAIL_MAX = 200


class AccessAction(models.TextChoices):
    """Everything the access log records (``audit.AccessEvent.action``)."""

    # Signing in and out
    LOGIN = "login", _("Signed in")
    LOGOUT = "logout", _("Signed out")
    LOGIN_FAILED = "login_failed", _("Failed sign-in")
    LOCKOUT = "lockout", _("Locked out after repeated failures")
    SESSION_EXPIRED = "session_expired", _("Session ended after inactivity")
    SUPPORT_EXPIRED = "support_expired", _("Support access ended")
    # Reading
    DASHBOARD_VIEW = "dashboard_view", _("Opened the dashboard")
    ITEM_LIST = "item_list", _("Listed or searched items")
    ITEM_VIEW = "item_view", _("Opened an item")
    PHOTO_VIEW = "photo_view", _("Opened a photo")
    ARCHIVE_LIST = "archive_list", _("Listed the archive")
    TRANSFER_LIST = "transfer_list", _("Listed transfers")
    TRANSFER_VIEW = "transfer_view", _("Opened a transfer")
    DOCUMENT_VIEW = "document_view", _("Opened a document")
    DISCREPANCY_LIST = "discrepancy_list", _("Listed discrepancies")
    DISCREPANCY_VIEW = "discrepancy_view", _("Opened a discrepancy")
    STOCKTAKE_LIST = "stocktake_list", _("Listed stock-takes")
    STOCKTAKE_VIEW = "stocktake_view", _("Opened a stock-take")
    LEDGER_VIEW = "ledger_view", _("Checked the custody ledger")
    REPORT_VIEW = "report_view", _("Opened a report")
    EXPORT = "export", _("Exported data")
    ODK_VIEW = "odk_view", _("Opened the ODK page")
    SUBMISSION_LIST = "submission_list", _("Listed ODK submissions to review")
    SUBMISSION_VIEW = "submission_view", _("Opened an ODK submission")
    QR_VIEW = "qr_view", _("Opened an app user's QR code")
    USER_LIST = "user_list", _("Listed users")
    USER_VIEW = "user_view", _("Opened a user")
    SUPPORT_LIST = "support_list", _("Listed support access")
    ACTIVITY_VIEW = "activity_view", _("Opened the access log")
    ACTIVITY_EXPORT = "activity_export", _("Exported the access log")
    CHANGES_VIEW = "changes_view", _("Opened the change history")
    CORRECTIONS_VIEW = "corrections_view", _("Opened the corrections to approve")
    # Administration
    USER_INVITED = "user_invited", _("Invited a user")
    USER_CHANGED = "user_changed", _("Changed a user's role or sites")
    USER_DEACTIVATED = "user_deactivated", _("Deactivated a user")
    USER_REACTIVATED = "user_reactivated", _("Reactivated a user")
    TWO_FACTOR_RESET = "two_factor_reset", _("Reset a user's two-step sign-in")
    SESSIONS_ENDED = "sessions_ended", _("Ended a user's sessions")
    ROLE_SAVED = "role_saved", _("Saved a custom role")
    SUPPORT_GRANTED = "support_granted", _("Granted support access")
    SUPPORT_REVOKED = "support_revoked", _("Ended support access")
    SETTINGS_CHANGED = "settings_changed", _("Changed the country's settings")
    CORRECTION_REQUESTED = "correction_requested", _("Asked for a correction")
    CORRECTION_APPROVED = "correction_approved", _("Approved a correction")
    CORRECTION_REJECTED = "correction_rejected", _("Rejected a correction")
    # The register import (imports)
    IMPORT_TEMPLATE = "import_template", _("Downloaded the register import template")
    IMPORT_CHECK = "import_check", _("Checked a register file (dry run)")
    IMPORT_RUN = "import_run", _("Imported a register file")
    IMPORT_VIEW = "import_view", _("Opened a register import")
    REGISTER_EXPORT = "register_export", _("Exported the whole register")


@dataclass(frozen=True)
class Declaration:
    """What a view shows: ``action`` is None for a view exempt for ``reason``."""

    action: AccessAction | None
    reason: str = ""
    # Written into every row of the view (e.g. which report page).
    details: Mapping = field(default_factory=dict)
    # Logged only for users holding this permission (a page that shows them
    # nothing else, e.g. the dashboard without stock figures).
    when_perm: str = ""


# Views of dependencies in our URL confs: declared here, since they cannot
# carry our decorator. Keyed by module prefix.
THIRD_PARTY = {
    "allauth.": Declaration(
        None, reason="sign-in, sign-out and password pages (audit.signals logs sign-ins)"
    ),
    "django.views.i18n": Declaration(None, reason="switches the language"),
}


def _declare(declaration: Declaration):
    def decorate(view):
        if getattr(view, DECLARATION_ATTRIBUTE, None) is not None:
            raise ImproperlyConfigured(f"{view.__qualname__}: declared twice for the access log")
        setattr(view, DECLARATION_ATTRIBUTE, declaration)
        return view

    return decorate


def logs_access(action: AccessAction, *, details: Mapping | None = None, when_perm: str = ""):
    """The view shows stock, people or documents: each successful answer to a
    signed-in user is one access-log row with ``action``."""
    if not isinstance(action, AccessAction):
        raise ImproperlyConfigured(f"{action!r} is not an AccessAction")
    return _declare(Declaration(action, details=dict(details or {}), when_perm=when_perm))


def access_exempt(reason: str):
    """The view shows no stock, people or documents (``reason`` says why, for
    the reader and the test's message); its writes are recorded by their
    services, in the item history, the custody ledger or the access log."""
    if not str(reason).strip():
        raise ImproperlyConfigured("access_exempt needs a reason")
    return _declare(Declaration(None, reason=str(reason)))


def declaration_of(view) -> Declaration | None:
    """The declaration of a URL's callback, through decorators that keep
    ``__wrapped__`` and class-based views' ``view_class``."""
    seen = set()
    while view is not None and id(view) not in seen:
        seen.add(id(view))
        found = getattr(view, DECLARATION_ATTRIBUTE, None)
        if found is None and hasattr(view, "view_class"):
            found = getattr(view.view_class, DECLARATION_ATTRIBUTE, None)
        if found is not None:
            return found
        view = getattr(view, "__wrapped__", None)
    return None


def declaration_of_callback(view) -> Declaration | None:
    """``declaration_of``, or the one ``THIRD_PARTY`` gives its module."""
    found = declaration_of(view)
    if found is not None:
        return found
    module = getattr(view, "__module__", "") or ""
    for prefix, declaration in THIRD_PARTY.items():
        if module.startswith(prefix):
            return declaration
    return None


@dataclass
class Shown:
    obj: object = None
    site: object = None
    details: dict | None = None


def access_shows(request, *, obj=None, site=None, details=None, filters=None) -> None:
    """What the view showed, for its access-log row: the object (an item, a
    transfer, a person), the site when the object has none of its own, and
    details — ``filters``, a list's filters, are cleaned by
    ``filters_for_log``. Writes nothing itself: the row is written by the
    middleware, only if the view answers successfully."""
    shown = getattr(request, SHOWN_ATTRIBUTE, None) or Shown()
    if obj is not None:
        shown.obj = obj
    if site is not None:
        shown.site = site
    if details is not None or filters is not None:
        shown.details = {**(shown.details or {}), **(details or {}), **filters_for_log(filters)}
    setattr(request, SHOWN_ATTRIBUTE, shown)


def shown_by(request) -> Shown:
    return getattr(request, SHOWN_ATTRIBUTE, None) or Shown()


def filters_for_log(filters: dict | None) -> dict:
    """A list's filters as JSON: model instances by id, dates as text, empty ones left out."""
    clean = {}
    for key, value in (filters or {}).items():
        if value in (None, "", [], ()):
            continue
        if hasattr(value, "pk"):
            value = value.pk
        elif isinstance(value, list | tuple | set):
            value = [getattr(v, "pk", v) for v in value]
            value = [v if isinstance(v, int | str) else str(v) for v in value]
        elif not isinstance(value, bool | int | str):
            value = str(value)
        clean[key] = value
    return clean


def query_details(request) -> dict:
    """The query string of a view that said nothing itself (e.g. a list's
    filters): non-empty parameters, long values cut."""
    details = {}
    for key, values in request.GET.lists():
        values = [value[:DETAIL_MAX] for value in values if value != ""]
        if values:
            details[key[:DETAIL_MAX]] = values[0] if len(values) == 1 else values
    return details
