"""Account reads (schema: whichever the connection is on — public for platform
staff, a country schema for that country's users)."""

from django.conf import settings
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import get_public_schema_name

from .permissions import may
from .roles import role_of


def two_factor_required(*, user, country) -> bool:
    """Whether ``user`` must use a second factor on ``country``'s host.

    ``country`` is ``request.tenant``: on the public host it is an unsaved
    stand-in whose schema is the public one (see tenants.middleware).
    """
    if country is None or country.schema_name == get_public_schema_name():
        # Only platform staff may use the public host; they always need 2FA.
        return True
    if country.two_factor_policy == type(country).TwoFactorPolicy.EVERYONE:
        return True
    role = role_of(user)
    if role and role.requires_two_factor:
        return True
    # A custom role that can manage users is an administrator's role.
    return may(user, "accounts.manage_users")


def totp_device_of(user) -> TOTPDevice | None:
    """The user's confirmed authenticator-app device, if they enrolled one."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


def backup_code_count(user) -> int:
    device = StaticDevice.objects.devices_for_user(user, confirmed=True).first()
    return device.token_set.count() if device else 0


def language_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]
