"""Reads over countries, for the public-side console only (public schema).

Here rather than in tenants: counting a country's users and sites reads
accounts and stock, which sit above tenants (README, "Layout")."""

from dataclasses import dataclass
from datetime import datetime

from django_tenants.utils import schema_context

from accounts.models import User
from stock.models import Site
from tenants.models import Country


@dataclass(frozen=True)
class CountryOverview:
    code: str
    name: str
    status: str
    status_label: str
    host: str
    url: str
    created_at: datetime
    user_count: int
    site_count: int


def country_overview_list() -> list[CountryOverview]:
    """One row per country. Counting users and sites is the only look inside a
    country schema the console makes; it reads no stock data."""
    rows = []
    for country in Country.objects.order_by("code"):
        with schema_context(country.schema_name):
            user_count = User.objects.filter(is_active=True).count()
            site_count = Site.objects.count()
        rows.append(
            CountryOverview(
                code=country.code,
                name=country.name,
                status=country.status,
                status_label=country.get_status_display(),
                host=country.host,
                url=country.base_url,
                created_at=country.created_at,
                user_count=user_count,
                site_count=site_count,
            )
        )
    return rows
