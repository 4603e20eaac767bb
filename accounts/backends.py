"""Django's ModelBackend reading a user's permissions — and roles — in one
query.

accounts.permissions (may/require) is where permissions are asked; this is
how they are read: the permissions a user holds of their own and through
their groups (roles), and the names of those groups, in one statement per
user object (a request's ``request.user`` lives one request), kept where
Django's backend keeps them (``_perm_cache``) — Django's own (and allauth's,
its subclass) reads them in two queries, and accounts.roles.role_of read the
group names in a third.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models.signals import m2m_changed

_GROUP_NAMES = "_sms_group_names"


def _tables() -> dict:
    user_model = get_user_model()
    groups = user_model.groups.through._meta
    own = user_model.user_permissions.through._meta
    return {
        "user_groups": groups.db_table,
        "user_groups_user": groups.get_field("user").column,
        "user_groups_group": groups.get_field("group").column,
        "user_perms": own.db_table,
        "user_perms_user": own.get_field("user").column,
        "user_perms_perm": own.get_field("permission").column,
        "group": Group._meta.db_table,
        "group_perms": Group.permissions.through._meta.db_table,
        "perm": Permission._meta.db_table,
        "ctype": ContentType._meta.db_table,
    }


def _read(user) -> tuple[set[str], tuple[str, ...]]:
    """({"app_label.codename"}, (group names)) of ``user``: one statement."""
    t = _tables()
    sql = (
        f'SELECT g.name, ct.app_label, p.codename FROM "{t["user_groups"]}" ug'  # noqa: S608
        f' JOIN "{t["group"]}" g ON g.id = ug."{t["user_groups_group"]}"'
        f' LEFT JOIN "{t["group_perms"]}" gp ON gp.group_id = g.id'
        f' LEFT JOIN "{t["perm"]}" p ON p.id = gp.permission_id'
        f' LEFT JOIN "{t["ctype"]}" ct ON ct.id = p.content_type_id'
        f' WHERE ug."{t["user_groups_user"]}" = %s'
        " UNION ALL"
        f' SELECT NULL, ct.app_label, p.codename FROM "{t["user_perms"]}" up'
        f' JOIN "{t["perm"]}" p ON p.id = up."{t["user_perms_perm"]}"'
        f' JOIN "{t["ctype"]}" ct ON ct.id = p.content_type_id'
        f' WHERE up."{t["user_perms_user"]}" = %s'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, user.pk])
        rows = cursor.fetchall()
    perms = {f"{app}.{codename}" for _group, app, codename in rows if codename}
    names = tuple(dict.fromkeys(group for group, _app, _codename in rows if group))
    return perms, names


def _load(user) -> None:
    perms, names = _read(user)
    if user.is_superuser:
        perms = {
            f"{app}.{codename}"
            for app, codename in Permission.objects.values_list(
                "content_type__app_label", "codename"
            )
        }
    # setattr, not __dict__: request.user is a lazy object around the user.
    user._perm_cache = perms
    setattr(user, _GROUP_NAMES, names)


def group_names(user) -> tuple[str, ...]:
    """The names of ``user``'s groups (read with the permissions, once)."""
    names = getattr(user, _GROUP_NAMES, None)
    if names is None:
        _load(user)
        names = getattr(user, _GROUP_NAMES)
    return names


class ModelBackend(DjangoModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if getattr(user_obj, "_perm_cache", None) is None or not hasattr(user_obj, _GROUP_NAMES):
            _load(user_obj)
        return user_obj._perm_cache


def _groups_changed(instance=None, **_kwargs) -> None:
    # A user object whose groups were just changed reads them again (another
    # user object of the same person: on its next request, as with Django's).
    if instance is not None and hasattr(instance, "__dict__"):
        instance.__dict__.pop(_GROUP_NAMES, None)
        instance.__dict__.pop("_perm_cache", None)


m2m_changed.connect(
    _groups_changed,
    sender=get_user_model().groups.through,
    dispatch_uid="accounts_backends_groups_changed",
)
