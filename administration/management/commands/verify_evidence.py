"""Check the evidence of every country (or one, with --country): the custody
ledger, every photo against its SHA-256 and every report snapshot against its
hash, each file read in full. Names each mismatch; exit status 1 when anything
does not verify. ``--notify`` also e-mails each failing country's
administrators (what the nightly Celery beat run does).

Runs from the public side and enters each country schema explicitly.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from administration.evidence import evidence_notify, evidence_verify
from tenants.models import Country


class Command(BaseCommand):
    help = _(
        "Verify the evidence of every country, or of one: custody ledger, photos and "
        "report snapshots against their SHA-256."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--country", help=_("ISO code of the country to check (default: all countries).")
        )
        parser.add_argument(
            "--notify",
            action="store_true",
            help=_("E-mail the administrators of each country where something does not verify."),
        )

    def handle(self, *args, **options):
        countries = Country.objects.exclude(schema_name="public").order_by("code")
        if options.get("country"):
            countries = countries.filter(code=options["country"].upper())
            if not countries.exists():
                raise CommandError(_("No country %(code)s.") % {"code": options["country"]})
        failing = []
        for country in countries:
            with schema_context(country.schema_name):
                report = evidence_verify(country_code=country.code)
                if options["notify"]:
                    evidence_notify(country=country, report=report)
            self.stdout.write(report.summary())
            for line in report.lines():
                self.stdout.write(f"  {country.code}: {line}")
            if not report.ok:
                failing.append(country.code)
        if failing:
            raise CommandError(
                _("The evidence does not verify in: %(codes)s") % {"codes": ", ".join(failing)}
            )
