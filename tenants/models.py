"""Country (the tenant) and Domain, in the public schema."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

iso2_validator = RegexValidator(
    r"^[A-Z]{2}$", _("Use the two capital letters of the ISO 3166-1 alpha-2 code.")
)


class Country(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    class TwoFactorPolicy(models.TextChoices):
        ADMINS_ONLY = "admins", _("Required for administrators, optional for others")
        EVERYONE = "everyone", _("Required for everyone")

    # The public host has no Country row (see tenants.middleware).
    code = models.CharField(_("ISO code"), max_length=2, unique=True, validators=[iso2_validator])
    name = models.CharField(_("name"), max_length=100)
    languages = models.JSONField(_("languages"), default=list)
    default_language = models.CharField(_("default language"), max_length=10, default="en")
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    two_factor_policy = models.CharField(
        _("two-factor policy"),
        max_length=16,
        choices=TwoFactorPolicy.choices,
        default=TwoFactorPolicy.ADMINS_ONLY,
    )
    idle_session_minutes = models.PositiveIntegerField(
        _("idle session timeout (minutes)"), default=60
    )
    # Corrections by anyone without administration.approve_correction wait
    # for an administrator (stock.services.corrections, the correction path).
    corrections_need_approval = models.BooleanField(
        _("corrections need an administrator's approval"), default=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    # Saving a new country creates and migrates its schema (in the caller's
    # transaction, so a failed provisioning leaves no schema behind); a schema
    # is never dropped by deleting the row.
    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.name}"

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED

    @property
    def host(self) -> str:
        return country_host(self.code)

    @property
    def base_url(self) -> str:
        return host_url(self.host)


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")


def country_host(code: str) -> str:
    return f"{code.lower()}.{settings.SMS_BASE_DOMAIN}"


def host_url(host: str) -> str:
    port = f":{settings.SMS_PUBLIC_PORT}" if settings.SMS_PUBLIC_PORT else ""
    return f"{settings.SMS_PUBLIC_SCHEME}://{host}{port}"
