"""Forms of the login steps and of the user's own settings (any schema), and
the allauth forms SMS replaces through settings.ACCOUNT_FORMS: the step-up
("confirm it's you": password and current code), the password change (with
the current code) and the password reset (the account's own address only)."""

from allauth.account.adapter import get_adapter
from allauth.account.forms import ChangePasswordForm, ReauthenticateForm, ResetPasswordForm
from django import forms
from django.utils.translation import gettext_lazy as _

from . import services
from .selectors import language_choices, signs_in_as, totp_device_of

TOO_MANY_CODES = _(
    "Too many wrong codes. For your safety, wait 5 minutes, then try again with a new code."
)
WRONG_CODE = _("That code is not right. Check the numbers in your app and try again.")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_(
            "The 6 numbers shown in your authenticator app now, or one of your backup codes."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label=_("The 6 numbers from the app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), required=False)

    def __init__(self, *args, default_label: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", default_label), *language_choices()]


def _code_field():
    return forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_(
            "The 6 numbers shown in your authenticator app now, or one of your backup codes."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
    )


class _CurrentCodeMixin:
    """Adds the current two-step code to a form that already checks the
    password, for an account that has set up an authenticator app. The code
    is checked only once the password is right, so a wrong password does not
    use up a backup code; wrong codes count in accounts.throttle."""

    def _add_code_field(self):
        if totp_device_of(self.user) is not None:
            self.fields["code"] = _code_field()

    def _check_code(self, password_field: str):
        if "code" not in self.fields or self.has_error(password_field) or self.has_error("code"):
            return
        try:
            device = services.two_factor_verify(user=self.user, code=self.cleaned_data["code"])
        except services.TooManyAttempts:
            self.add_error("code", TOO_MANY_CODES)
        else:
            if device is None:
                self.add_error("code", WRONG_CODE)


class StepUpForm(_CurrentCodeMixin, ReauthenticateForm):
    """allauth's reauthentication ("confirm it's you") before a security change:
    the password and, for an account with an authenticator app, its current code."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_code_field()

    def clean(self):
        data = super().clean()
        self._check_code("password")
        return data


class PasswordChangeForm(_CurrentCodeMixin, ChangePasswordForm):
    """Changing the password asks the current one (through the sign-in checks,
    so wrong ones count towards the lockout) and the current code."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_code_field()

    def clean_oldpassword(self) -> str:
        password = self.cleaned_data.get("oldpassword", "")
        adapter = get_adapter()
        if not adapter.reauthenticate(self.user, password):
            raise adapter.validation_error("enter_current_password")
        return password

    def clean(self):
        data = super().clean()
        self._check_code("oldpassword")
        return data


class PasswordResetForm(ResetPasswordForm):
    """A reset link goes only to an account's address of record: an address
    someone added to their account but never verified resets nothing."""

    def clean_email(self) -> str:
        email = super().clean_email()
        self.users = [user for user in self.users if signs_in_as(user, {"email": email})]
        return email


class EmailChangeForm(forms.Form):
    email = forms.EmailField(
        label=_("Your new e-mail address"),
        help_text=_("We send a link there; your address changes when you open it."),
    )
