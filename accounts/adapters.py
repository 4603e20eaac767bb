"""django-allauth adapter: no public sign-up, the public host's wall, 2FA as a
login stage (accounts.stages.TwoFactorStage), the lockout per account and
sign-in by e-mail with the account's own address only."""

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import get_public_schema_name

from core.origin import client_ip

from . import hooks, throttle
from .selectors import accounts_named, signs_in_as


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Accounts are created by provisioning or by a country's administrators.
        return False

    def pre_authenticate(self, request, **credentials):
        try:
            # allauth's limit per address (settings.ACCOUNT_RATE_LIMITS), then
            # ours per account: a username and an e-mail address of the same
            # person count together (accounts.throttle.passwords).
            super().pre_authenticate(request, **credentials)
            if any(throttle.passwords.is_locked(user) for user in accounts_named(credentials)):
                raise self.validation_error("too_many_login_attempts")
        except ValidationError:
            # Too many failures: the refusal goes into the access log, where
            # administrators see lockouts (audit registers itself as listener).
            hooks.lockout_notify(request=request, credentials=credentials)
            raise

    def authentication_failed(self, request, **credentials):
        super().authentication_failed(request, **credentials)
        for user in accounts_named(credentials):
            throttle.passwords.record_failure(user)

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None and not signs_in_as(user, credentials):
            # The right password typed with an address that is not the
            # account's own (an e-mail address added but never verified, or
            # someone else's): refused like a wrong password.
            self.authentication_failed(request, **credentials)
            return None
        if user is not None:
            throttle.passwords.clear(user)
        if user is not None and not on_public_host_of(request):
            if hooks.sign_in_refused(user):
                # E.g. a support account whose grant has expired or was ended
                # (administration's check): refused like a wrong password (and
                # logged as a failure).
                from django.contrib.auth.signals import user_login_failed

                user_login_failed.send(
                    sender=__name__, credentials={**credentials, "password": "*"}, request=request
                )
                self.authentication_failed(request, **credentials)
                return None
        tenant = getattr(request, "tenant", None)
        on_public_host = tenant is not None and tenant.schema_name == get_public_schema_name()
        if user is not None and on_public_host and not user.is_staff:
            # The public host is the platform-staff console and nothing else.
            # Refused exactly like a wrong password, so the answer does not
            # tell anyone that the account exists.
            self.authentication_failed(request, **credentials)
            return None
        return user

    def get_client_ip(self, request):
        # The per-address sign-in limit counts the address the access log
        # records (core.origin: SMS_TRUSTED_PROXY_COUNT), not allauth's own
        # rule, which behind nginx would count nginx's address for everyone.
        address = client_ip(request)
        if address is None:
            raise PermissionDenied("Unable to determine client IP address")
        return address

    def get_login_stages(self):
        # Last, so nothing runs between the second factor and the actual login.
        return [*super().get_login_stages(), "accounts.stages.TwoFactorStage"]


def on_public_host_of(request) -> bool:
    tenant = getattr(request, "tenant", None)
    return tenant is None or tenant.schema_name == get_public_schema_name()
