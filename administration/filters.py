"""The filters of the change oversight page (country schema), applied by
administration.selectors after the site scope; the item changes' form is the
page's, and the custom field changes take the filters that apply to them."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audit.filters import PersonFilter
from core.filters import ScopedFilterSet, date_range
from stock import wording
from stock.filters import SiteFilter
from stock.models import FieldDefinitionChange, ItemChange


def _field_filter():
    """The field a change concerns, chosen by its label (the item's fields,
    then the custom fields), not typed as an internal key."""
    return django_filters.ChoiceFilter(
        label=_("Field"),
        choices=wording.item_field_choices,
        empty_label=_("All"),
        method="filter_field",
    )


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
    field = _field_filter()

    class Meta:
        model = ItemChange
        fields = []

    def filter_item(self, queryset, name, value):
        return queryset.filter(item__sms_number__iexact=value.strip())

    def filter_field(self, queryset, name, value):
        return queryset.filter(field=value)


class FieldChangeFilterSet(_ChangeFilterSet):
    """Custom field definitions are country-wide: no store, no item."""

    field = _field_filter()

    class Meta:
        model = FieldDefinitionChange
        fields = []

    def filter_field(self, queryset, name, value):
        # The same choice as the corrections' filter: a custom field names its
        # definition; a field of the item itself has no definition changes.
        if value.startswith(wording.CUSTOM_PREFIX):
            return queryset.filter(definition__key=value[len(wording.CUSTOM_PREFIX) :])
        return queryset.none()
