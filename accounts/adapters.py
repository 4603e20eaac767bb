"""django-allauth adapter: no public sign-up, the public host's wall, and 2FA
as a login stage (accounts.stages.TwoFactorStage)."""

from allauth.account.adapter import DefaultAccountAdapter
from django_tenants.utils import get_public_schema_name


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Accounts are created by provisioning or by a country's administrators.
        return False

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        tenant = getattr(request, "tenant", None)
        on_public_host = tenant is not None and tenant.schema_name == get_public_schema_name()
        if user is not None and on_public_host and not user.is_staff:
            # The public host is the platform-staff console and nothing else.
            # Refused exactly like a wrong password, so the answer does not
            # tell anyone that the account exists.
            self.authentication_failed(request, **credentials)
            return None
        return user

    def get_login_stages(self):
        # Last, so nothing runs between the second factor and the actual login.
        return [*super().get_login_stages(), "accounts.stages.TwoFactorStage"]
