"""django-allauth adapter: no public sign-up, the public host's wall, and 2FA
as a login stage (accounts.stages.TwoFactorStage)."""

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import get_public_schema_name

from core.origin import client_ip

from . import hooks


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Accounts are created by provisioning or by a country's administrators.
        return False

    def pre_authenticate(self, request, **credentials):
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            # Too many failures: the refusal goes into the access log, where
            # administrators see lockouts (audit registers itself as listener).
            hooks.lockout_notify(request=request, credentials=credentials)
            raise

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
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
