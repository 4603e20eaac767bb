"""May this actor do X: the one place that answers (both schemas).

Every service, selector and view that checks a permission asks here, so the
rule (an active, signed-in account holding the permission through its role
or its own permissions; Django's ModelBackend) is written once. Permissions
are named "app_label.codename", e.g. ``stock.correct_item``.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _


def may(actor, perm: str) -> bool:
    """Whether ``actor`` (a user, AnonymousUser or None) holds ``perm``."""
    return bool(
        actor is not None and getattr(actor, "is_authenticated", False) and actor.has_perm(perm)
    )


def may_any(actor, *perms: str) -> bool:
    """Whether ``actor`` holds at least one of ``perms``."""
    return any(may(actor, perm) for perm in perms)


def require(actor, *perms: str, message=None) -> None:
    """Raise PermissionDenied unless ``actor`` holds every one of ``perms``.

    ``message``: what the person is told (default: "You are not allowed to do
    this.")."""
    if not perms or not all(may(actor, perm) for perm in perms):
        raise PermissionDenied(message or _("You are not allowed to do this."))


def require_any(actor, *perms: str, message=None) -> None:
    """Raise PermissionDenied unless ``actor`` holds at least one of ``perms``."""
    if not may_any(actor, *perms):
        raise PermissionDenied(message or _("You are not allowed to do this."))
