"""Django's ModelBackend reading a user's permissions in one query.

accounts.permissions (may/require) is where permissions are asked; this is
how they are read: the permissions a user holds of their own and through
their groups (roles) in one statement, kept on the user object for the rest
of the request as Django's backend keeps them (``_perm_cache``), where
Django's backend (and allauth's, its subclass) reads them two queries at a
time.
"""

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class ModelBackend(DjangoModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            held = Permission.objects.all()
            if not user_obj.is_superuser:
                held = held.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in held.values_list(
                    "content_type__app_label", "codename"
                ).distinct()
            }
        return user_obj._perm_cache
