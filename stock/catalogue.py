"""The country's small reference tables — stores, categories, types — read
once and kept in the cache (country schema).

Every page names stores and types; reading them (and rendering them as model
instances) on each request cost more than the rows the page is about. Here
they are kept in the cache (its keys carry the schema name, so one
country never reads another's), dropped whenever a store, category or type
is saved or deleted (now and again when the transaction commits, so a
reader in between can't keep the old list), and read again after
``SECONDS`` at most in any case (a change made in SQL, outside the models).

The site scope is not decided here: ``site_choices`` narrows the cached
stores with stock.scope's ids.
"""

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from .models import ItemCategory, ItemType, Site
from .scope import visible_site_ids

KEY = "stock:catalogue:v1"
SECONDS = 300


def _build() -> dict:
    # Model instances (pickled into the cache): their labels follow the
    # language of whoever reads them.
    return {
        "sites": list(Site.objects.order_by("name", "pk")),
        "categories": list(ItemCategory.objects.order_by("order", "code")),
        "types": list(
            ItemType.objects.select_related("category").order_by("category__order", "order", "code")
        ),
    }


def data() -> dict:
    found = cache.get(KEY)
    if found is None:
        found = _build()
        cache.set(KEY, found, SECONDS)
    return found


def forget(**_kwargs) -> None:
    cache.delete(KEY)
    transaction.on_commit(lambda: cache.delete(KEY))


for _model in (Site, ItemCategory, ItemType):
    post_save.connect(forget, sender=_model, dispatch_uid=f"stock_catalogue_save_{_model.__name__}")
    post_delete.connect(
        forget, sender=_model, dispatch_uid=f"stock_catalogue_delete_{_model.__name__}"
    )


def sites() -> dict[int, Site]:
    """Every store of the country by id (active or not), by name."""
    return {site.pk: site for site in data()["sites"]}


def categories() -> dict[int, ItemCategory]:
    return {category.pk: category for category in data()["categories"]}


def types() -> dict[int, ItemType]:
    """Every type by id, each with its category, in the types' order."""
    return {item_type.pk: item_type for item_type in data()["types"]}


def site_choices(user) -> list[tuple[int, str]]:
    """(id, name) of the stores ``user`` may see, by name."""
    visible = visible_site_ids(user)
    return [
        (site.pk, site.name) for site in data()["sites"] if visible is None or site.pk in visible
    ]


def category_choices() -> list[tuple[int, str]]:
    """(id, label) of the enabled categories, in their order."""
    return [(c.pk, c.label()) for c in data()["categories"] if c.enabled]


def type_labels() -> dict[int, str]:
    """{type id: its label} in the current language."""
    return {t.pk: t.label() for t in data()["types"]}


def type_choices() -> list[tuple[int, str]]:
    """(id, "category — type") of every type, as the type filter offers them."""
    return [(t.pk, f"{t.category.label()} — {t.label()}") for t in data()["types"]]


def type_ids_of_category(category_id) -> list[int]:
    """The ids of a category's types (literal ids for the item filters)."""
    return [t.pk for t in data()["types"] if t.category_id == category_id]
