"""Account writes (schema: whichever the connection is on)."""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils.translation import gettext as _
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
def password_confirm(*, user, password: str) -> bool:
    """Whether ``password`` is ``user``'s, for a page that asks for it again
    outside sign-in (e.g. the ODK Central address). Counts like a sign-in
    (accounts.throttle.passwords): wrong ones move the account's lockout, and
    a locked account is refused even with the right password, so such a page
    is no way round the lockout for someone holding an open session."""
    if throttle.passwords.is_locked(user):
        return False
    if user.check_password(password or ""):
        throttle.passwords.clear(user)
        return True
    throttle.passwords.record_failure(user)
    return False


def user_set_language(*, user, language: str) -> None:
    """Save the user's language; empty means the country's default."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValueError(f"Unknown language {language!r}")
    user.language = language
    user.save(update_fields=["language"])


# --- E-mail address ------------------------------------------------------------------
#
# The address of record is User.email: sign-in by e-mail and password resets
# use it and nothing else (accounts.selectors.signs_in_as). An administrator
# types it at the invitation, whose one-time link goes there (so it is proven
# before the first sign-in); a person's own new address replaces it only once
# they open the link sent to it. allauth's own e-mail pages are not used.

EMAIL_CHANGE_SALT = "accounts.email_change"
EMAIL_CHANGE_MAX_AGE = 24 * 3600


def email_taken(email: str, *, by_other_than=None) -> bool:
    """Whether another account of this country (this schema) has ``email`` as
    its address: an address is unique in the country."""
    others = get_user_model().objects.filter(email__iexact=(email or "").strip())
    if by_other_than is not None:
        others = others.exclude(pk=by_other_than.pk)
    return others.exists()


def email_change_request(*, user, email: str, confirm_url) -> str:
    """E-mail a one-day link to ``email``; the address changes only when it is
    opened (email_change_confirm). ``confirm_url(token)`` makes the link's
    absolute address (the caller knows the host). Returns the token."""
    # Lower case, as allauth keeps addresses: its sign-in by e-mail compares
    # the typed address, lowered, with the stored one.
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": [_("Enter a valid e-mail address.")]}) from None
    if email.casefold() == (user.email or "").casefold():
        raise ValidationError({"email": [_("This is already your e-mail address.")]})
    if email_taken(email, by_other_than=user):
        raise ValidationError({"email": [_("Another account already uses this e-mail address.")]})
    # The link is tied to this country, this account and the address it
    # replaces: once the address has changed, an older link does nothing.
    token = signing.dumps(
        {"schema": connection.schema_name, "user": user.pk, "from": user.email, "to": email},
        salt=EMAIL_CHANGE_SALT,
    )
    link = confirm_url(token)
    subject = _("Confirm your new e-mail address")
    body = _(
        "Hello %(name)s,\n\n"
        "Someone signed in as %(username)s asked to use this address for their account "
        "on the stockpile register. If it was you, open this link within a day to confirm "
        "it:\n%(link)s\n\n"
        "If it was not you, ignore this message: nothing changes.\n"
    ) % {"name": user.display_name, "username": user.get_username(), "link": link}
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email]))
    return token


def email_change_check(*, user, token: str) -> str:
    """The new address a link confirms for ``user``; ValidationError when the
    link is broken, too old, for someone else or already used."""
    dead = ValidationError(
        _("This link does not work any more. Ask for a new one from your Security page.")
    )
    try:
        data = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=EMAIL_CHANGE_MAX_AGE)
    except signing.BadSignature:
        raise dead from None
    if (
        data.get("schema") != connection.schema_name
        or data.get("user") != user.pk
        or data.get("from") != user.email
    ):
        raise dead
    if email_taken(data["to"], by_other_than=user):
        raise ValidationError(_("Another account already uses this e-mail address."))
    return data["to"]


@transaction.atomic
def email_change_confirm(*, user, token: str) -> str:
    """Make the address the link was sent to the account's address of record
    (it is proven: the link was opened) and tell the old address. Returns it."""
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    email = email_change_check(user=user, token=token)
    old = user.email
    user.email = email
    user.save(update_fields=["email"])
    if old:
        subject = _("Your e-mail address was changed")
        body = _(
            "Hello %(name)s,\n\n"
            "The e-mail address of your account %(username)s on the stockpile register "
            "is now %(email)s. If you did not do this, tell your SMS administrator now.\n"
        ) % {"name": user.display_name, "username": user.get_username(), "email": email}
        transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [old]))
    return email
