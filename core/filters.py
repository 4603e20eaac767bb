"""What every list's FilterSet shares (django-filter).

A list's selector narrows its rows to the user's site scope first
(stock.scope), then hands them to the list's FilterSet: a filter can only
narrow what the scope let through. The FilterSet's form is the filter form
the page shows, and its field names are the query string's parameters.

A value the form refuses (a store the user may not see, a date that is not
one) makes the list empty and the form says why next to the field: the list
never widens, and never quietly shows something other than what was asked.
"""

from typing import ClassVar

import django_filters
from django.db.models import QuerySet

from .dates import day_end, day_start
from .forms import DateInput

# What a filter left empty holds (as django-filter counts it).
EMPTY_VALUES = ([], (), {}, "", None)


class ScopedFilterSet(django_filters.FilterSet):
    """A list's filters over rows already narrowed to ``user``'s scope.

    ``queryset`` is required (never the model's whole table); ``user`` lets
    a filter narrow its choices to what the user may see (stock.filters.SiteFilter)."""

    def __init__(self, data=None, queryset: QuerySet | None = None, *, user, **kwargs):
        if queryset is None:
            raise TypeError(f"{type(self).__name__} needs the rows of the user's scope.")
        self.user = user
        super().__init__(data, queryset, **kwargs)

    # The form class of each FilterSet class, made once per process: making
    # it builds a field per filter, which each form then copies again (on
    # every list page; a tenth of its CPU with the copies).
    _form_classes: ClassVar[dict[type, type]] = {}

    def get_form_class(self):
        form_class = ScopedFilterSet._form_classes.get(type(self))
        if form_class is None:
            form_class = ScopedFilterSet._form_classes[type(self)] = super().get_form_class()
        return form_class

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            # A choice the filter narrows to the user (the stores of their
            # scope) is this user's, not that of the user the shared class
            # was first made for.
            for name, filter_ in self.filters.items():
                if hasattr(filter_, "get_queryset"):
                    form.fields[name].queryset = filter_.get_queryset(self.request)
        return self._form

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.form.errors:
            return queryset.none()
        return super().filter_queryset(queryset)

    def active(self) -> dict:
        """The filters in use: their accepted, non-empty values by name (for
        the access log and the "filtered" state of the page)."""
        if not self.is_bound:
            return {}
        self.form.is_valid()
        return {
            name: value
            for name, value in self.form.cleaned_data.items()
            if value not in EMPTY_VALUES
        }

    @property
    def filtered(self) -> bool:
        """Some filter was given (accepted or refused)."""
        return bool(self.active()) or bool(self.is_bound and self.form.errors)


class DayFromFilter(django_filters.DateFilter):
    """A date: rows of that day or later, the day starting at midnight in the
    country's time zone (for a date-time field)."""

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        return qs.filter(**{f"{self.field_name}__gte": day_start(value)})


class DayUntilFilter(django_filters.DateFilter):
    """A date: rows of that day or earlier (the day included)."""

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        return qs.filter(**{f"{self.field_name}__lt": day_end(value)})


def date_range(field_name: str, *, start_label, end_label, whole_days: bool = False):
    """Two filters, "from" and "until" (both days included) on ``field_name``:
    a date column, or with ``whole_days`` a date-time column read as days of
    the country. Declare them as ``name_from, name_to = date_range(...)``."""
    if whole_days:
        return (
            DayFromFilter(field_name=field_name, label=start_label, widget=DateInput()),
            DayUntilFilter(field_name=field_name, label=end_label, widget=DateInput()),
        )
    return (
        django_filters.DateFilter(
            field_name=field_name, lookup_expr="gte", label=start_label, widget=DateInput()
        ),
        django_filters.DateFilter(
            field_name=field_name, lookup_expr="lte", label=end_label, widget=DateInput()
        ),
    )
