"""Check the custody ledger of every country (or one, with --country): each
entry's hash, its link to the one before, no gap. Exit status 1 when a chain
is broken, naming its first bad entry.

Runs from the public side and enters each country schema explicitly.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from ledger.chain import verify_chain
from tenants.models import Country


class Command(BaseCommand):
    help = _("Verify the custody ledger's hash chain of every country, or of one.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--country", help=_("ISO code of the country to check (default: all countries).")
        )

    def handle(self, *args, **options):
        countries = Country.objects.exclude(schema_name="public").order_by("code")
        if options.get("country"):
            countries = countries.filter(code=options["country"].upper())
            if not countries.exists():
                raise CommandError(_("No country %(code)s.") % {"code": options["country"]})
        broken = []
        for country in countries:
            with schema_context(country.schema_name):
                result = verify_chain()
            if result.ok:
                self.stdout.write(
                    _("%(code)s: ledger intact, %(count)s entries checked.")
                    % {"code": country.code, "count": result.checked}
                )
            else:
                broken.append(country.code)
                self.stdout.write(
                    _("%(code)s: LEDGER BROKEN at entry %(sequence)s: %(message)s")
                    % {
                        "code": country.code,
                        "sequence": result.problem.sequence,
                        "message": result.problem.message,
                    }
                )
        if broken:
            raise CommandError(
                _("The custody ledger does not verify in: %(codes)s") % {"codes": ", ".join(broken)}
            )
