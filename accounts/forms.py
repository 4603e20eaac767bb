"""Forms of the login steps and of the user's own settings (any schema)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .selectors import language_choices


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
