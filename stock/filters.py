"""The filters of the item list and the archive (country schema).

Applied by stock.selectors to rows already in the user's site scope; their
forms are the filter bars of the two pages, and their names the query
string's (``?site=3&status=in_stock``: the dashboard's links, bookmarks).

Values may be given as a query string gives them (ids, ISO dates) or as
objects; ``q`` matches the start of the SMS number, the CITES mark (case and
extra blanks ignored) or the case reference — prefix searches that the
upper(...) text_pattern_ops indexes answer without scanning.

The stores, categories and types the forms offer come from stock.catalogue
(cached per country, the stores narrowed to the user's scope) and are
written by core.forms.QuickSelect: no query and no template per option. A
value given is still checked against the database (the store among those in
scope), and a category filters by its types' ids as literals.
"""

from functools import cached_property

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.filters import ScopedFilterSet, date_range
from core.forms import ListedChoices, ModelChoiceField, QuickSelect, QuickTextInput

from . import catalogue, marks
from .fields import ItemTypeChoiceField, SiteChoiceField
from .models import ArchiveRecord, ItemCategory, ItemType, Site, StockItem
from .scope import visible_site_ids, visible_sites


class KnownChoiceMixin:
    """A model choice field whose given value is looked up in ``known``
    ({id: instance}: the catalogue's, the stores narrowed to the user's
    scope) instead of by a query on its queryset: the same answer — that
    instance, or "Select a valid choice" — for the filter bars, which are
    on every list page. Without ``known`` it is Django's own lookup."""

    known: dict | None = None

    def to_python(self, value):
        if self.known is None or value in self.empty_values:
            return super().to_python(value)
        if isinstance(value, self.queryset.model):
            value = value.pk
        try:
            found = self.known.get(int(str(value)))
        except (TypeError, ValueError):
            found = None
        if found is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return found


class KnownSiteChoiceField(KnownChoiceMixin, SiteChoiceField):
    pass


class KnownItemTypeChoiceField(KnownChoiceMixin, ItemTypeChoiceField):
    pass


class _EnabledCategories(ListedChoices):
    def __init__(self, field):
        super().__init__(field)
        self.queryset = self.queryset.filter(enabled=True)


class CategoryChoiceField(KnownChoiceMixin, ModelChoiceField):
    """Offers the enabled categories, accepts any: the dashboard links to
    the items of a category disabled since they were registered."""

    iterator = _EnabledCategories

    def label_from_instance(self, obj):
        return obj.label()


class SiteFilter(django_filters.ModelChoiceFilter):
    """A store among those the user may see: another store's id is refused,
    so a filter can't reach outside the scope. Filters ``field_name`` (a
    store's id column, e.g. ``site_id``) unless a method is given."""

    field_class = KnownSiteChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Site.objects.none())
        kwargs.setdefault("widget", QuickSelect)
        super().__init__(*args, **kwargs)

    def get_queryset(self, request):
        return visible_sites(self.parent.user)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return qs.filter(**{self.field_name: value.pk})


class CategoryFilter(django_filters.ModelChoiceFilter):
    field_class = CategoryChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", QuickSelect)
        super().__init__(*args, **kwargs)


class ItemTypeFilter(django_filters.ModelChoiceFilter):
    field_class = KnownItemTypeChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", QuickSelect)
        super().__init__(*args, **kwargs)


class QuickChoiceFilter(django_filters.ChoiceFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", QuickSelect)
        super().__init__(*args, **kwargs)


def _offer(field, choices) -> None:
    """Offer ``choices`` (cached (id, label)) instead of the field's queryset,
    which stays what a given value is checked against."""
    empty = [("", field.empty_label)] if field.empty_label is not None else []
    field.choices = [*empty, *choices]


# Up to this many matching items, a search looks their ids up column by
# column (one index scan each) and lists those; past it, the list's ordered
# scan is the fast plan (it stops at a page's worth of rows).
SEARCH_IDS_MAX = 5_000


# Words shorter than this match numbers, marks and references only: "a" would
# otherwise name nearly every store and type.
WORD_MIN = 3


def _prefix_tests(q: str, *, item: str = "") -> list[Q]:
    """What a search matches from the start of a column: the SMS number, the
    case and exhibit references, the mark (also in its canonical form: a whole
    mark typed another way, "xc26/01/5", is looked up as stored — same index,
    upper + text_pattern_ops) and, for words of WORD_MIN letters or more, the
    species. The one list both search plans below use."""
    tests = [
        Q(**{f"{item}sms_number__istartswith": q}),
        Q(**{f"{item}case_reference__istartswith": q}),
        Q(**{f"{item}exhibit_reference__istartswith": q}),
        *(Q(**{f"{item}cites_mark__istartswith": form}) for form in marks.canonical_query(q)),
    ]
    if len(q) >= WORD_MIN:
        tests.append(Q(**{f"{item}species__istartswith": q}))
    return tests


def _matching_item_ids(q: str) -> list | None:
    """The ids of the items one of ``_prefix_tests`` matches, or None when
    more than SEARCH_IDS_MAX match. One OR of the prefix tests over the
    list's ordered index made the planner walk every item (6 s at 1,000,000
    items); each test alone uses its own index, so each is its own SELECT
    (at most SEARCH_IDS_MAX + 1 rows) in one UNION ALL: one round trip."""
    first, *others = (
        StockItem.objects.filter(test).order_by().values_list("pk", flat=True)[: SEARCH_IDS_MAX + 1]
        for test in _prefix_tests(q)
    )
    ids = set(first.union(*others, all=True).order_by())
    return None if len(ids) > SEARCH_IDS_MAX else list(ids)


def search(queryset, q: str, *, item: str = ""):
    """Rows whose item's number, references, mark or species starts with
    ``q``, or whose store or type is named by it (``wider_names``)."""
    q = marks.normalise_mark(q)
    if not q:
        return queryset
    others = wider_names(q, item=item)
    ids = _matching_item_ids(q)
    if ids is not None:
        found = Q(**{f"{item}pk__in": ids})
    else:
        # Too many to list: the prefix tests as one OR, which the list's
        # ordered scan answers a page at a time.
        found = Q()
        for test in _prefix_tests(q, item=item):
            found |= test
    return queryset.filter(found | others if others is not None else found)


def wider_names(q: str, *, item: str = "") -> Q | None:
    """The stores and types whose name contains the words (stock.catalogue:
    no query): ``site_id IN`` / ``item_type_id IN``, or None."""
    if len(q) < WORD_MIN:
        return None
    known = catalogue.load()
    found = None
    site_ids = known.sites_named(q)
    if site_ids:
        found = Q(**{f"{item}site_id__in": site_ids})
    type_ids = known.types_named(q)
    if type_ids:
        by_type = Q(**{f"{item}item_type_id__in": type_ids})
        found = by_type if found is None else found | by_type
    return found


class _ItemFilterSet(ScopedFilterSet):
    """The filters the item list and the archive share; ``item`` is the path
    from the listed rows to their item ("" for items themselves)."""

    item = ""

    @cached_property
    def catalogue(self) -> catalogue.Catalogue:
        return catalogue.load()

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            known = self.catalogue
            _offer(form.fields["site"], known.site_choices(self.user))
            _offer(form.fields["category"], known.category_choices())
            _offer(form.fields["item_type"], known.type_choices())
            # A value given is checked against these, not by a query each;
            # the stores are the user's only (the same scope as the choices).
            visible = visible_site_ids(self.user)
            form.fields["site"].known = {
                pk: site for pk, site in known.sites.items() if visible is None or pk in visible
            }
            form.fields["category"].known = known.categories
            form.fields["item_type"].known = known.types
        return self._form

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_q",
        max_length=100,
        widget=QuickTextInput(
            attrs={
                "type": "search",
                "placeholder": _("Number, mark, case, exhibit, species, store or type"),
            }
        ),
    )
    site = SiteFilter(method="filter_site", label=_("Store"), empty_label=_("All"))
    category = CategoryFilter(
        queryset=ItemCategory.objects.all(),
        method="filter_category",
        label=_("Category"),
        empty_label=_("All"),
    )
    item_type = ItemTypeFilter(
        queryset=ItemType.objects.select_related("category"),
        method="filter_item_type",
        label=_("Type"),
        empty_label=_("All"),
    )

    def filter_q(self, queryset, name, value):
        return search(queryset, str(value), item=self.item)

    def filter_site(self, queryset, name, value):
        return queryset.filter(**{f"{self.item}site_id": value.pk})

    def filter_category(self, queryset, name, value):
        # The category's types as literal ids rather than a join on the type
        # table: the planner then uses the (status, site, received) index of
        # the store's items instead of walking the whole country's.
        type_ids = self.catalogue.type_ids_of_category(value.pk)
        return queryset.filter(**{f"{self.item}item_type_id__in": type_ids})

    def filter_item_type(self, queryset, name, value):
        return queryset.filter(**{f"{self.item}item_type_id": value.pk})


class ItemFilterSet(_ItemFilterSet):
    """The item list: archived items only when asked for (status=archived)."""

    status = QuickChoiceFilter(
        label=_("Status"), choices=StockItem.Status.choices, empty_label=_("All")
    )
    source = QuickChoiceFilter(
        label=_("Source"), choices=StockItem.Source.choices, empty_label=_("All")
    )
    legal_status = QuickChoiceFilter(
        label=_("Legal status"), choices=StockItem.LegalStatus.choices, empty_label=_("All")
    )
    received_from, received_to = date_range(
        "received_on", start_label=_("Received from"), end_label=_("Received until")
    )

    class Meta:
        model = StockItem
        fields = []

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.exclude(status=StockItem.Status.ARCHIVED)
        return queryset


class ArchiveFilterSet(_ItemFilterSet):
    """The archive: its records, by their items' filters and their own."""

    item = "item__"

    reason = QuickChoiceFilter(
        label=_("Reason"), choices=ArchiveRecord.Reason.choices, empty_label=_("All")
    )
    archived_from, archived_to = date_range(
        "archived_on", start_label=_("Archived from"), end_label=_("Archived until")
    )

    class Meta:
        model = ArchiveRecord
        fields = []
