"""The second factor as a step of the allauth login (any schema).

The password step has passed when this stage runs, but the user is not
logged in until it exits: allauth keeps the half-done login in the session
and only calls ``login()`` after the last stage.
"""

from allauth.account.stages import LoginStage
from django.http import HttpResponseRedirect
from django.urls import reverse

from .selectors import totp_device_of, two_factor_required

VERIFY, ENROL, BACKUP_CODES = "verify", "enrol", "backup_codes"

URL_NAMES = {
    VERIFY: "account_2fa_verify",
    ENROL: "account_2fa_enrol",
    BACKUP_CODES: "account_2fa_enrol_codes",
}


class TwoFactorStage(LoginStage):
    key = "sms_two_factor"

    @property
    def urlname(self):
        # allauth sends a user who comes back to the login page mid-way to
        # the page of the step they were on.
        return URL_NAMES[self.state.get("step", VERIFY)]

    def handle(self):
        user = self.login.user
        if user is None:
            return None, True
        if totp_device_of(user) is not None:
            step = VERIFY
        elif two_factor_required(user=user, country=getattr(self.request, "tenant", None)):
            step = ENROL
        else:
            return None, True
        self.state["step"] = step
        return HttpResponseRedirect(reverse(URL_NAMES[step])), True
