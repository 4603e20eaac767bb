"""Account writes (schema: whichever the connection is on)."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from .roles import ROLES


class UnknownPermission(LookupError):
    pass


@transaction.atomic
def roles_sync() -> list[Group]:
    """Create or update the groups of every role with exactly its permissions."""
    groups = []
    for role in ROLES.values():
        group, _created = Group.objects.get_or_create(name=role.name)
        permissions = []
        for dotted in role.permissions:
            app_label, codename = dotted.split(".", 1)
            try:
                permissions.append(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )
            except Permission.DoesNotExist as exc:
                raise UnknownPermission(
                    f"Role {role.key!r} names unknown permission {dotted!r}"
                ) from exc
        group.permissions.set(permissions)
        groups.append(group)
    return groups
