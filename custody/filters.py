"""The filters of the transfer list (country schema), applied by
custody.selectors after the site scope; their form is the page's."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.filters import ScopedFilterSet
from stock.filters import SiteFilter

from .models import Transfer


class TransferFilterSet(ScopedFilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=Transfer.Status.choices,
        empty_label=_("All statuses"),
        widget=forms.Select(attrs={"aria-label": _("Status")}),
    )
    # Transfers from or to one of the user's stores.
    site = SiteFilter(method="filter_site", label=_("Store"))

    class Meta:
        model = Transfer
        fields = []

    def filter_site(self, queryset, name, value):
        return queryset.filter(Q(origin_id=value.pk) | Q(destination_id=value.pk))
