"""Account reads (schema: whichever the connection is on — public for platform
staff, a country schema for that country's users)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import get_public_schema_name

from .permissions import may_any
from .roles import SENSITIVE_PERMISSIONS, role_of


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
    # A custom role (or a person's own grant) holding any of an
    # administrator's permissions is an administrator's role.
    return may_any(user, *SENSITIVE_PERMISSIONS)


def totp_device_of(user) -> TOTPDevice | None:
    """The user's confirmed authenticator-app device, if they enrolled one."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


def backup_code_count(user) -> int:
    device = StaticDevice.objects.devices_for_user(user, confirmed=True).first()
    return device.token_set.count() if device else 0


def language_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


def _identifiers(credentials: dict) -> list[str]:
    # What was typed: allauth passes a typed address both as "email" and as
    # "username" (usernames may look like addresses).
    return [
        value.strip()
        for key in ("username", "email")
        if isinstance(value := credentials.get(key), str) and value.strip()
    ]


def accounts_named(credentials: dict) -> list:
    """The accounts (current schema) a sign-in attempt names, by username or
    by their address of record (User.email) — the accounts whose lockout
    counter it moves, whichever of the two was typed."""
    query = Q(pk__in=[])
    for typed in _identifiers(credentials):
        query |= Q(username__iexact=typed) | Q(email__iexact=typed)
    return list(get_user_model().objects.filter(query))


def signs_in_as(user, credentials: dict) -> bool:
    """Whether what was typed names ``user`` by their username or by their
    address of record. An address becomes the address of record only once
    verified (accounts.services.email_change_confirm), so an unverified one
    never opens an account."""
    names = {user.get_username().casefold(), (user.email or "").casefold()} - {""}
    return any(typed.casefold() in names for typed in _identifiers(credentials))
