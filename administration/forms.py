"""Forms of the administration screens (country schema)."""

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permission_labels import permission_label
from accounts.roles import ROLES
from core.forms import ModelChoiceField, ModelMultipleChoiceField
from core.text import limit_length
from stock.scope import visible_sites

from . import services

User = get_user_model()


class _SiteChoice(ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class _RoleChoice(ModelChoiceField):
    def label_from_instance(self, obj):
        # Built-in roles by their translated label; custom roles by their name.
        labels = {role.name: role.label for role in ROLES.values()}
        return str(labels.get(obj.name, obj.name))


class ScopeForm(forms.Form):
    role = _RoleChoice(label=_("Role"), queryset=Group.objects.none())
    all_sites = forms.BooleanField(
        label=_("All sites"),
        required=False,
        help_text=_("Tick for people who work for the whole country (HQ, auditors)."),
    )
    sites = _SiteChoice(
        label=_("Sites"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The stores this person works with (when not all sites)."),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = Group.objects.filter(
            pk__in=[g.pk for g in services.assignable_roles(actor=actor)]
        ).order_by("name")
        self.fields["sites"].queryset = visible_sites(actor).order_by("name")

    def clean(self):
        data = super().clean()
        if not data.get("all_sites") and not data.get("sites"):
            self.add_error("sites", _("Tick “All sites” or at least one site."))
        return data


class InviteForm(ScopeForm):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    username = forms.CharField(
        label=_("Username"), max_length=150, help_text=_("What the person types to sign in.")
    )
    email = forms.EmailField(label=_("E-mail address"), help_text=_("The invitation goes here."))
    field_order = ["full_name", "username", "email", "role", "all_sites", "sites"]


class UserEditForm(ScopeForm):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    field_order = ["full_name", "role", "all_sites", "sites"]


class _PermissionChoice(ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return permission_label(obj)


class RoleForm(forms.Form):
    name = forms.CharField(label=_("Name of the role"), max_length=150)
    permissions = _PermissionChoice(
        label=_("What people with this role may do"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth.models import Permission

        self.fields["permissions"].queryset = Permission.objects.filter(
            pk__in=[p.pk for p in services.documented_permissions()]
        ).select_related("content_type")


class SupportGrantForm(forms.Form):
    staff = forms.CharField(
        label=_("Platform staff member"),
        max_length=150,
        help_text=_("Their username or e-mail address on the SMS platform."),
    )
    days = forms.IntegerField(
        label=_("For how many days"),
        min_value=1,
        max_value=services.MAX_SUPPORT_DAYS,
        initial=2,
        help_text=_("The access ends by itself after this time."),
    )
    read_only = forms.BooleanField(
        label=_("Read-only"),
        required=False,
        initial=True,
        help_text=_("Untick only if they must correct items or custom fields."),
    )
    reason = limit_length(forms.CharField(label=_("Why"), widget=forms.Textarea(attrs={"rows": 2})))

    def valid_until(self) -> datetime.datetime:
        return timezone.now() + datetime.timedelta(days=self.cleaned_data["days"])


class CountrySettingsForm(forms.Form):
    corrections_need_approval = forms.BooleanField(
        label=_("Corrections need an administrator's approval"),
        required=False,
        help_text=_(
            "When ticked, a correction made by someone who is not an administrator "
            "waits under “Corrections to approve” and only applies once approved."
        ),
    )
    idle_session_minutes = forms.IntegerField(
        label=_("Sign out after this many minutes without activity"),
        min_value=5,
        max_value=24 * 60,
    )


class DecisionForm(forms.Form):
    note = limit_length(
        forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    )
