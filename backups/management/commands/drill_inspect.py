"""Used by the restore drill on its scratch copy (backups.drill): the
evidence check of one country and the row count of each of its tables, as
JSON. Runs in a process pointed at the scratch database."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from administration.evidence import evidence_verify
from backups.services import table_counts
from tenants.models import Country


class Command(BaseCommand):
    help = _("Restore drill: one country's evidence check and table counts, as JSON.")

    def add_arguments(self, parser):
        parser.add_argument("code", help=_("ISO code of the country."))

    def handle(self, *args, **options):
        country = Country.objects.filter(code=options["code"].upper()).first()
        if country is None:
            raise CommandError(_("No country %(code)s.") % {"code": options["code"]})
        with schema_context(country.schema_name):
            report = evidence_verify(country_code=country.code)
        self.stdout.write(
            json.dumps(
                {
                    "evidence": {
                        "ok": report.ok,
                        "ledger_ok": report.ledger_ok,
                        "ledger_checked": report.ledger_checked,
                        "photos_checked": report.photos_checked,
                        "reports_checked": report.reports_checked,
                        "problems": report.lines(),
                    },
                    "counts": table_counts(country.schema_name),
                }
            )
        )
