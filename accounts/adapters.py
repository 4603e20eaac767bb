"""django-allauth adapter: no public sign-up; 2FA as a login stage."""

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Accounts are created by provisioning or by a country's administrators.
        return False
