"""The country's small reference tables — stores, categories, types — read
once and kept in the cache (country schema).

Every page names stores and types; reading them (and making model instances
of them) on each request cost more than the rows the page is about. Here
they are plain tuples in the cache (its keys carry the schema name, so one
country never reads another's), dropped whenever a store, category or type
is saved or deleted (now and again when the transaction commits, so a
reader in between can't keep the old list), and read again after
``SECONDS`` at most in any case (a change made in SQL, outside the models).

``load()`` costs one small cache read per request: a process keeps the
Catalogue it made for each country (with the labels, choices and search
names it worked out per language) while the token of core.kept is the one
the tables were read under; the tables themselves are in the cache under
that token too, for the other processes. A page asks its Catalogue
for what it shows. The site scope is not decided here: ``site_choices``
narrows the cached stores with stock.scope's ids.

The Catalogue and its model instances are shared by the requests of a
process: read them, never change them.
"""

from functools import cached_property

from django.core.cache import cache
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.utils.translation import get_language

from core import kept

from .models import ItemCategory, ItemType, Site, localized_label
from .scope import visible_site_ids

KEY = "stock:catalogue:v4"
TOKEN_KEY = "stock:catalogue:v4:token"
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


def _build(token: str) -> dict:
    return {
        "token": token,
        "sites": list(Site.objects.order_by("name", "pk").values_list(*_SITE)),
        "categories": list(ItemCategory.objects.order_by("order", "code").values_list(*_CATEGORY)),
        "types": list(
            ItemType.objects.order_by("category__order", "order", "code").values_list(*_TYPE)
        ),
    }


def forget(**_kwargs) -> None:
    kept.forget(TOKEN_KEY, KEY)


for _model in (Site, ItemCategory, ItemType):
    post_save.connect(forget, sender=_model, dispatch_uid=f"stock_catalogue_save_{_model.__name__}")
    post_delete.connect(
        forget, sender=_model, dispatch_uid=f"stock_catalogue_delete_{_model.__name__}"
    )


# The Catalogue this process made last, per schema (a country's tables are
# read once per process until they change or SECONDS pass).
_made: dict[str, "Catalogue"] = {}


def load() -> "Catalogue":
    schema = connection.schema_name
    token = kept.token(TOKEN_KEY, SECONDS)
    made = _made.get(schema)
    if made is not None and made.token == token:
        return made
    found = cache.get(KEY)
    if found is None or found["token"] != token:
        found = _build(token)
        cache.set(KEY, found, SECONDS)
    made = _made[schema] = Catalogue(found)
    return made


class Catalogue:
    """The stores, categories and types of the current country, as read once."""

    def __init__(self, data: dict):
        self._data = data
        self.token = data["token"]
        # What depends on the language, worked out once per language.
        self._per_language: dict[tuple[str, str], object] = {}

    def _in_language(self, what: str, make):
        key = (what, get_language() or "")
        if key not in self._per_language:
            self._per_language[key] = make()
        return self._per_language[key]

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
        return self._in_language(
            "category_choices",
            lambda: [(pk, c.label()) for pk, c in self.categories.items() if c.enabled],
        )

    def type_labels(self) -> dict[int, str]:
        """{type id: its label} in the current language."""

        def make():
            language = get_language()
            return {
                row[0]: localized_label(row[_TYPE_LABELS], language, fallback=row[_TYPE_CODE])
                for row in self._data["types"]
            }

        return self._in_language("type_labels", make)

    def type_choices(self) -> list[tuple[int, str]]:
        """(id, "category — type") of every type, as the type filter offers them."""

        def make():
            categories = {pk: c.label() for pk, c in self.categories.items()}
            labels = self.type_labels()
            return [
                (row[0], f"{categories.get(row[_TYPE_CATEGORY], '')} — {labels[row[0]]}")
                for row in self._data["types"]
            ]

        return self._in_language("type_choices", make)

    # -- what a search's words may name ------------------------------------------

    def sites_named(self, words: str) -> list[int]:
        """The stores whose name contains ``words`` or whose code is ``words``
        (case ignored), active or not."""
        words = words.casefold()
        return [pk for pk, name, code in self._site_names if words in name or words == code]

    @cached_property
    def _site_names(self) -> list[tuple[int, str, str]]:
        return [(pk, site.name.casefold(), site.code.casefold()) for pk, site in self.sites.items()]

    def types_named(self, words: str) -> list[int]:
        """The types whose code is ``words``, or whose label — in any language,
        or as shown in the current one — or whose category's label contains
        ``words`` (case ignored)."""
        words = words.casefold()
        return [
            pk
            for pk, code, names in self._in_language("type_names", self._type_names)
            if words == code or any(words in name for name in names)
        ]

    def _type_names(self) -> list[tuple[int, str, tuple[str, ...]]]:
        names = []
        for pk, item_type in self.types.items():
            category = item_type.category
            shown = (
                *(str(label) for label in (item_type.labels or {}).values()),
                item_type.label(),
                category.label(),
                *(str(label) for label in (category.labels or {}).values()),
            )
            names.append((pk, item_type.code.casefold(), tuple(n.casefold() for n in shown)))
        return names

    def type_ids_of_category(self, category_id) -> list[int]:
        """The ids of a category's types (literal ids for the item filters)."""
        return [row[0] for row in self._data["types"] if row[_TYPE_CATEGORY] == category_id]
