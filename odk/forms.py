"""Forms of the ODK screens (country schema): they parse input only."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.text import limit_length


class ConnectionForm(forms.Form):
    base_url = forms.URLField(
        label=_("ODK Central address"), help_text=_("e.g. https://central.example.org")
    )
    username = forms.CharField(label=_("Central account (e-mail)"), max_length=254)
    password = forms.CharField(
        label=_("Password of the Central account"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        required=False,
        help_text=_("Leave empty to keep the password already stored (same address only)."),
    )
    project_id = forms.IntegerField(
        label=_("Existing Central project id"),
        required=False,
        min_value=1,
        help_text=_("Leave empty and SMS creates the project."),
    )
    current_password = forms.CharField(
        label=_("Your SMS password"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "current-password"}),
        required=False,
        help_text=_("Needed when the address changes."),
    )


class RejectForm(forms.Form):
    reason = limit_length(
        forms.CharField(label=_("Why is it rejected?"), widget=forms.Textarea(attrs={"rows": 3}))
    )
