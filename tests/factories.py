"""factory_boy factories. Each writes into whatever schema the connection is on."""

import factory
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import ROLES

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def finish(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_user(*, role: str | None = None, sites=(), all_sites: bool = False, **fields) -> User:
    """A user in the current schema with a role and a site scope."""
    user = UserFactory(all_sites=all_sites, **fields)
    if role:
        user.groups.add(Group.objects.get(name=ROLES[role].name))
    for site in sites:
        site.scoped_users.add(user)
    return user


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "stock.Site"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"site-{n}")
    name = factory.Sequence(lambda n: f"Store {n}")
    region = "Central"


class ItemCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "stock.ItemCategory"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"category-{n}")
    kind = "ivory"
    labels = factory.LazyAttribute(lambda o: {"en": o.code.title(), "fr": o.code.title()})


class ItemTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "stock.ItemType"
        django_get_or_create = ("code",)

    category = factory.SubFactory(ItemCategoryFactory)
    code = factory.Sequence(lambda n: f"type-{n}")
    labels = factory.LazyAttribute(lambda o: {"en": o.code.title()})
    counting = "piece"
    marking = "none"
