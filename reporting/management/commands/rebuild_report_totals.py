"""Recompute the report aggregates (reporting.totals) of every country, or of
one, from its custody ledger: the back-fill after upgrading, the repair if
they were ever in doubt, and the step to take after changing a country's
time zone (it moves the day each entry takes effect).

Runs from the public side and enters each country schema explicitly, as the
database owner (core.dbroles).
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from core.dbroles import connect_as_owner
from reporting.totals import rebuild
from tenants.models import Country


class Command(BaseCommand):
    help = _("Recompute the report figures of every country, or of one, from its custody ledger.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--country", help=_("ISO code of the country (default: all countries).")
        )

    def handle(self, *args, **options):
        # rebuild() empties the aggregate tables with TRUNCATE, which the
        # application's database role may not do (core.dbroles).
        connect_as_owner()
        countries = Country.objects.exclude(schema_name=get_public_schema_name()).order_by("code")
        if options.get("country"):
            countries = countries.filter(code=options["country"].upper())
            if not countries.exists():
                raise CommandError(_("No country %(code)s.") % {"code": options["country"]})
        for country in countries:
            started = time.perf_counter()
            with schema_context(country.schema_name):
                counts = rebuild()
            self.stdout.write(
                _(
                    "%(code)s: %(items)s items, %(transitions)s changes, %(movements)s "
                    "movement totals, in %(seconds).1f s."
                )
                % {"code": country.code, "seconds": time.perf_counter() - started, **counts}
            )
