"""Account writes (schema: whichever the connection is on)."""

import time

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from . import throttle
from .roles import ROLES
from .selectors import totp_device_of


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


# --- Two-factor authentication -------------------------------------------------

BACKUP_CODE_COUNT = 10
BACKUP_DEVICE_NAME = "backup"
TOTP_DEVICE_NAME = "authenticator"


class TooManyAttempts(Exception):
    """Too many wrong codes for this user in the throttle window."""


def normalise_code(code: str) -> str:
    # People copy codes with spaces or type backup codes with dashes or capitals.
    return "".join(ch for ch in (code or "") if ch.isalnum()).lower()


def new_totp_key() -> str:
    return default_key()


@transaction.atomic
def two_factor_verify(*, user, code: str) -> Device | None:
    """Check a 6-digit authenticator code or a backup code (used up on success).

    Returns the device that matched, or None. Raises TooManyAttempts when the
    user has made too many wrong attempts recently, whatever the code.
    """
    if throttle.is_locked(user):
        raise TooManyAttempts
    code = normalise_code(code)
    matched = None
    if code.isdigit() and len(code) == 6:
        device = totp_device_of(user)
        if device is not None and device.verify_token(code):
            matched = device
    elif code:
        for device in StaticDevice.objects.devices_for_user(user, confirmed=True):
            if device.verify_token(code):
                matched = device
                break
    if matched is None:
        throttle.record_failure(user)
    else:
        throttle.clear(user)
    return matched


@transaction.atomic
def two_factor_enrol(*, user, key: str, code: str) -> tuple[TOTPDevice, list[str]] | None:
    """Confirm a new authenticator app with its first code; replaces any earlier
    app and backup codes. Returns the device and the new backup codes, or None
    when the code is wrong. ``key`` is the secret the server generated and kept
    in the session, never one sent by the browser."""
    if throttle.is_locked(user):
        raise TooManyAttempts
    code = normalise_code(code)
    device = TOTPDevice(user=user, name=TOTP_DEVICE_NAME, key=key, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not (code.isdigit() and totp.verify(int(code), device.tolerance)):
        throttle.record_failure(user)
        return None
    throttle.clear(user)
    # The code just used must not open a login a second time (django-otp's replay guard).
    device.last_t = totp.t()
    device.drift = totp.drift
    TOTPDevice.objects.filter(user=user).delete()
    device.save()
    return device, backup_codes_regenerate(user=user)


@transaction.atomic
def backup_codes_regenerate(*, user) -> list[str]:
    """Ten new single-use backup codes; the old ones stop working."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.token_set.all().delete()
    codes = []
    while len(codes) < BACKUP_CODE_COUNT:
        token = StaticToken.random_token()
        if token not in codes:
            codes.append(token)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=t) for t in codes])
    return codes


@transaction.atomic
def two_factor_reset(*, user) -> None:
    """Remove the authenticator app and backup codes (lost phone). If 2FA is
    mandatory for the user, they enrol again at their next login."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    throttle.clear(user)


# --- Preferences ------------------------------------------------------------------


@transaction.atomic
def user_set_language(*, user, language: str) -> None:
    """Save the user's language; empty means the country's default."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValueError(f"Unknown language {language!r}")
    user.language = language
    user.save(update_fields=["language"])
