"""The filters of the access log (country schema), applied by
audit.selectors after the site scope; their form is the activity page's."""

import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.filters import ScopedFilterSet, date_range
from core.forms import ModelChoiceField
from stock.filters import SiteFilter

from .models import AccessEvent

User = get_user_model()
# Events found by an item's SMS number: the item, its photos, its discrepancies.
ITEM_TYPES = ("stock.stockitem", "stock.itemphoto", "custody.discrepancy")


class PersonChoiceField(ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.display_name} ({obj.username})"


class PersonFilter(django_filters.ModelChoiceFilter):
    """A person of the country, by name and username (every account: people
    are not tied to one site)."""

    field_class = PersonChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", User.objects.order_by("username"))
        super().__init__(*args, **kwargs)


class AccessEventFilterSet(ScopedFilterSet):
    user = PersonFilter(label=_("Person"))
    date_from, date_to = date_range(
        "at",
        start_label=_("From"),
        end_label=pgettext_lazy("end of a period", "To"),
        whole_days=True,
    )
    # A plain id column (the table exists in the public schema too).
    site = SiteFilter(field_name="site_id", label=_("Site"))
    item = django_filters.CharFilter(
        label=_("Item (SMS number)"), max_length=64, method="filter_item"
    )
    action = django_filters.ChoiceFilter(
        label=_("What"), choices=AccessEvent.Action.choices, empty_label=_("Everything")
    )

    class Meta:
        model = AccessEvent
        fields = []

    def filter_item(self, queryset, name, value):
        return queryset.filter(object_type__in=ITEM_TYPES, object_repr__iexact=value.strip())
