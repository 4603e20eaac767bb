"""The filters of the change oversight page (country schema), applied by
administration.selectors after the site scope; the item changes' form is the
page's, and the custom field changes take the filters that apply to them."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audit.filters import PersonFilter
from core.filters import ScopedFilterSet, date_range
from stock.filters import SiteFilter
from stock.models import FieldDefinitionChange, ItemChange


class _ChangeFilterSet(ScopedFilterSet):
    user = PersonFilter(field_name="changed_by", label=_("Changed by"))
    date_from, date_to = date_range(
        "changed_at",
        start_label=_("From"),
        end_label=pgettext_lazy("end of a period", "To"),
        whole_days=True,
    )


class ItemChangeFilterSet(_ChangeFilterSet):
    site = SiteFilter(field_name="item__site_id", label=_("Site"))
    item = django_filters.CharFilter(
        label=_("Item (SMS number)"), max_length=64, method="filter_item"
    )
    field = django_filters.CharFilter(label=_("Field"), max_length=100, method="filter_field")

    class Meta:
        model = ItemChange
        fields = []

    def filter_item(self, queryset, name, value):
        return queryset.filter(item__sms_number__iexact=value.strip())

    def filter_field(self, queryset, name, value):
        return queryset.filter(field__icontains=value.strip())


class FieldChangeFilterSet(_ChangeFilterSet):
    """Custom field definitions are country-wide: no store, no item."""

    field = django_filters.CharFilter(label=_("Field"), max_length=100, method="filter_field")

    class Meta:
        model = FieldDefinitionChange
        fields = []

    def filter_field(self, queryset, name, value):
        return queryset.filter(definition__key__icontains=value.strip())
