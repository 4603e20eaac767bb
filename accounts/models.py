"""The one user model, present in the public schema (platform staff) and in
every country schema (that country's users)."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        help_text=_("Leave empty to use the country's default language."),
    )
    # Site scope: every site, or only the sites linked through Site.scoped_users
    # (country schema only). Read it through stock.scope, never directly.
    all_sites = models.BooleanField(_("all sites"), default=False)
    deactivated_at = models.DateTimeField(_("deactivated"), null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("manage_users", _("Can manage users, roles and site scopes")),
            ("view_access_log", _("Can see who accessed what and when")),
        ]

    def __str__(self):
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username
