"""Administration fixtures: country A with two sites, an administrator who sees
every site, one scoped to site X only, a store manager per site; country B
with its own administrator."""

from dataclasses import dataclass

import pytest
from django_tenants.utils import schema_context

from accounts.roles import HQ_OFFICER, SMS_ADMINISTRATOR, STORE_MANAGER
from tests.factories import SiteFactory, make_user


@dataclass
class People:
    site_x: object
    site_y: object
    admin: object
    admin_x: object
    manager_x: object
    manager_y: object
    hq: object
    admin_b: object


@pytest.fixture
def people(country_a, country_b):
    with schema_context(country_b.schema_name):
        admin_b = make_user(username="admin-b", role=SMS_ADMINISTRATOR, all_sites=True)
    with schema_context(country_a.schema_name):
        site_x = SiteFactory(code="site-x", name="Store X")
        site_y = SiteFactory(code="site-y", name="Store Y")
        return People(
            site_x=site_x,
            site_y=site_y,
            admin=make_user(username="admin", role=SMS_ADMINISTRATOR, all_sites=True),
            admin_x=make_user(username="admin-x", role=SMS_ADMINISTRATOR, sites=[site_x]),
            manager_x=make_user(username="manager-x", role=STORE_MANAGER, sites=[site_x]),
            manager_y=make_user(username="manager-y", role=STORE_MANAGER, sites=[site_y]),
            hq=make_user(username="hq", role=HQ_OFFICER, all_sites=True),
            admin_b=admin_b,
        )


def signed_in(client, user, *, schema: str, host: str):
    """``client`` signed in as ``user`` on ``host`` (session in ``schema``)."""
    with schema_context(schema):
        client.force_login(user)
    client.defaults["HTTP_HOST"] = host
    return client


def make_item(people, *, site=None, actor=None, weight="12.500"):
    """One ivory piece registered through the service (connection on XA)."""
    from stock import services
    from tests.factories import ItemCategoryFactory, ItemTypeFactory

    category = ItemCategoryFactory(code="ivory", kind="ivory")
    item_type = ItemTypeFactory(code="cut-piece", category=category)
    site = site or people.site_x
    actor = actor or (people.manager_x if site == people.site_x else people.manager_y)
    return services.item_register(
        actor=actor,
        site=site,
        item_type=item_type,
        data={"weight_kg": weight, "source": "seizure"},
    )
