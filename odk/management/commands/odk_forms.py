"""Write a country's ODK forms to a folder, each as XLSForm and XForm.

    manage.py odk_forms CODE --output DIR [--validate | --no-validate]

No ODK Central is needed: a country can check the forms (ODK's own tools
open the XLSForm) or load them into a Central by hand. ODK Validate (Java)
runs when Java is installed, unless --no-validate.
"""

import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from odk.formfiles import KINDS, form_files
from tenants.models import Country


class Command(BaseCommand):
    help = "Write a country's ODK forms to a folder, each as XLSForm (.xlsx) and XForm (.xml)."

    def add_arguments(self, parser):
        parser.add_argument("country", help="the country's code, e.g. CM")
        parser.add_argument("--output", required=True, help="folder to write the files to")
        parser.add_argument(
            "--validate",
            action="store_true",
            default=None,
            help="run ODK Validate on each XForm (default: when Java is installed)",
        )
        parser.add_argument("--no-validate", dest="validate", action="store_false")

    def handle(self, *args, **options):
        code = options["country"].upper()
        country = Country.objects.exclude(schema_name="public").filter(code=code).first()
        if country is None:
            raise CommandError(_("No country %(code)s.") % {"code": code})
        validate = options["validate"]
        if validate is None:
            validate = shutil.which("java") is not None
        output = Path(options["output"])
        output.mkdir(parents=True, exist_ok=True)
        with schema_context(country.schema_name):
            for kind in KINDS:
                try:
                    files = form_files(kind=kind, validate=validate)
                except Exception as exc:  # pyxform / ODK Validate say what they refused
                    raise CommandError(f"{kind}: {exc}") from exc
                for form_file in files:
                    path = output / form_file.name
                    path.write_bytes(form_file.content)
                    self.stdout.write(str(path))
