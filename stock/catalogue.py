"""The country's small reference tables — stores, categories, types — read
once and kept in the cache (country schema).

Every page names stores and types; reading them (and making model instances
of them) on each request cost more than the rows the page is about. Here
they are plain tuples in the cache (its keys carry the schema name, so one
country never reads another's), dropped whenever a store, category or type
is saved or deleted (now and again when the transaction commits, so a
reader in between can't keep the old list), and read again after
``SECONDS`` at most in any case (a change made in SQL, outside the models).

``load()`` reads them once (one cache read); a page asks its Catalogue for
what it shows. The site scope is not decided here: ``site_choices`` narrows
the cached stores with stock.scope's ids.
"""

from functools import cached_property

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.translation import get_language

from .models import ItemCategory, ItemType, Site, localized_label
from .scope import visible_site_ids

KEY = "stock:catalogue:v3"
SECONDS = 300


def _columns(model) -> tuple[str, ...]:
    # Every column in the model's order (Model.from_db's), the id first: the
    # instances made from them are whole.
    names = tuple(field.attname for field in model._meta.concrete_fields)
    assert names[0] == model._meta.pk.attname, model
    return names


_SITE = _columns(Site)
_CATEGORY = _columns(ItemCategory)
_TYPE = _columns(ItemType)
_TYPE_CATEGORY = _TYPE.index("category_id")
_TYPE_CODE = _TYPE.index("code")
_TYPE_LABELS = _TYPE.index("labels")
_SITE_NAME = _SITE.index("name")


def _build() -> dict:
    return {
        "sites": list(Site.objects.order_by("name", "pk").values_list(*_SITE)),
        "categories": list(ItemCategory.objects.order_by("order", "code").values_list(*_CATEGORY)),
        "types": list(
            ItemType.objects.order_by("category__order", "order", "code").values_list(*_TYPE)
        ),
    }


def forget(**_kwargs) -> None:
    cache.delete(KEY)
    transaction.on_commit(lambda: cache.delete(KEY))


for _model in (Site, ItemCategory, ItemType):
    post_save.connect(forget, sender=_model, dispatch_uid=f"stock_catalogue_save_{_model.__name__}")
    post_delete.connect(
        forget, sender=_model, dispatch_uid=f"stock_catalogue_delete_{_model.__name__}"
    )


def load() -> "Catalogue":
    found = cache.get(KEY)
    if found is None:
        found = _build()
        cache.set(KEY, found, SECONDS)
    return Catalogue(found)


class Catalogue:
    """The stores, categories and types of the current country, as read once."""

    def __init__(self, data: dict):
        self._data = data

    # -- model instances, as read from the database (every column) -----------------

    @cached_property
    def sites(self) -> dict[int, Site]:
        """Every store by id (active or not), by name."""
        return {row[0]: Site.from_db("default", _SITE, row) for row in self._data["sites"]}

    @cached_property
    def categories(self) -> dict[int, ItemCategory]:
        """Every category by id, in their order."""
        return {
            row[0]: ItemCategory.from_db("default", _CATEGORY, row)
            for row in self._data["categories"]
        }

    @cached_property
    def types(self) -> dict[int, ItemType]:
        """Every type by id, each with its category, in the types' order."""
        types = {}
        for row in self._data["types"]:
            item_type = ItemType.from_db("default", _TYPE, row)
            item_type.category = self.categories[item_type.category_id]
            types[item_type.pk] = item_type
        return types

    # -- what the filter bars offer -----------------------------------------------

    def site_choices(self, user) -> list[tuple[int, str]]:
        """(id, name) of the stores ``user`` may see, by name."""
        visible = visible_site_ids(user)
        return [
            (row[0], row[_SITE_NAME])
            for row in self._data["sites"]
            if visible is None or row[0] in visible
        ]

    def category_choices(self) -> list[tuple[int, str]]:
        """(id, label) of the enabled categories, in their order."""
        return [(pk, c.label()) for pk, c in self.categories.items() if c.enabled]

    def type_labels(self) -> dict[int, str]:
        """{type id: its label} in the current language."""
        language = get_language()
        return {
            row[0]: localized_label(row[_TYPE_LABELS], language, fallback=row[_TYPE_CODE])
            for row in self._data["types"]
        }

    def type_choices(self) -> list[tuple[int, str]]:
        """(id, "category — type") of every type, as the type filter offers them."""
        categories = {pk: c.label() for pk, c in self.categories.items()}
        labels = self.type_labels()
        return [
            (row[0], f"{categories.get(row[_TYPE_CATEGORY], '')} — {labels[row[0]]}")
            for row in self._data["types"]
        ]

    def type_ids_of_category(self, category_id) -> list[int]:
        """The ids of a category's types (literal ids for the item filters)."""
        return [row[0] for row in self._data["types"] if row[_TYPE_CATEGORY] == category_id]
