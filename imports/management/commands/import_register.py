"""Bring a country's existing register in from a spreadsheet, or take it out.

    manage.py import_register XA --template --output template.xlsx
    manage.py import_register XA register.xlsx --dry-run --user admin
    manage.py import_register XA register.xlsx --photos photos.zip --user admin
    manage.py import_register XA register.xlsx --map "Tusk No.=cites_mark" \\
        --store "Central Armoury=central" --valid-only --user admin
    manage.py import_register XA --export --output register.xlsx --user admin

The same services as the web pages (imports.services): the same checks, the
same mapping (answers given here are kept for the next file, as on the
web), the same ledger entries and access-log rows. Runs in this process,
printing its progress, rather than in Celery.
"""

import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from imports import services
from imports.columns import normalise
from imports.models import ImportRun
from stock.models import Site
from tenants.models import Country


class Command(BaseCommand):
    help = _(
        "Import a register from a spreadsheet (with a dry run), or write the template or the export."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help=_("ISO code of the country."))
        parser.add_argument("file", nargs="?", help=_("The register spreadsheet (XLSX)."))
        parser.add_argument("--template", action="store_true", help=_("Write the import template."))
        parser.add_argument("--export", action="store_true", help=_("Write the whole register."))
        parser.add_argument("--output", help=_("Where to write the template or the export."))
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Check every row, save nothing.")
        )
        parser.add_argument(
            "--valid-only",
            action="store_true",
            help=_("Import the valid rows even if some are refused."),
        )
        parser.add_argument("--photos", help=_("A ZIP of the photos named in the file."))
        parser.add_argument(
            "--sheet", default="", help=_("The sheet to read (default: the first).")
        )
        parser.add_argument("--user", help=_("The SMS administrator the import is recorded under."))
        parser.add_argument("--language", help=_("Language of the template's labels."))
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help=_("A column of the file and the field it fills (repeatable)."),
        )
        parser.add_argument(
            "--store",
            action="append",
            default=[],
            metavar="NAME=CODE",
            help=_("A store name of the file and the code of its site (repeatable)."),
        )
        parser.add_argument(
            "--report", help=_("Where to write the checked file (errors beside the cells).")
        )

    def handle(self, *args, **options):
        country = Country.objects.filter(code=options["code"].upper()).first()
        if country is None:
            raise CommandError(_("No country %(code)s.") % {"code": options["code"]})
        language = options.get("language") or country.default_language or "en"
        with schema_context(country.schema_name), translation.override(language):
            try:
                return self._handle(country, options)
            except PermissionDenied as exc:
                raise CommandError(str(exc) or _("You are not allowed to do this.")) from None
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from None

    def _actor(self, options):
        username = options.get("user")
        User = get_user_model()
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(_("No user %(name)s in this country.") % {"name": username})
            return user
        admins = [u for u in User.objects.filter(is_active=True) if u.has_perm(services.PERMISSION)]
        if len(admins) == 1:
            return admins[0]
        raise CommandError(_("Say which SMS administrator does this: --user NAME."))

    def _handle(self, country, options):
        if options["template"] or options["export"]:
            if not options.get("output"):
                raise CommandError(_("Say where to write it: --output FILE.xlsx"))
            actor = self._actor(options) if options["export"] or options.get("user") else None
            if options["template"]:
                actor = actor or self._actor(options)
                content = services.template_build(actor=actor)
            else:
                content = services.register_export(actor=actor)
            Path(options["output"]).write_bytes(content)
            self.stdout.write(_("Written: %(path)s") % {"path": options["output"]})
            return
        if not options.get("file"):
            raise CommandError(_("Give the spreadsheet to import, or --template / --export."))
        actor = self._actor(options)
        path = Path(options["file"])
        photos = Path(options["photos"]) if options.get("photos") else None
        started = time.perf_counter()
        with path.open("rb") as handle:
            photo_handle = photos.open("rb") if photos else None
            try:
                run = services.run_upload(
                    actor=actor,
                    upload=File(handle, name=path.name),
                    photos=File(photo_handle, name=photos.name) if photo_handle else None,
                    sheet=options["sheet"],
                )
            finally:
                if photo_handle:
                    photo_handle.close()
        columns = dict(run.columns)
        for answer in options["map"]:
            header, _sep, target = answer.partition("=")
            match = next((h for h in columns if normalise(h) == normalise(header)), None)
            if match is None:
                raise CommandError(_("The file has no column “%(header)s”.") % {"header": header})
            columns[match] = target.strip()
        sites = {normalise(s.code): s.pk for s in Site.objects.all()}
        stores = {}
        for answer in options["store"]:
            name, _sep, code = answer.partition("=")
            if normalise(code) not in sites:
                raise CommandError(_("No store with the code %(code)s.") % {"code": code})
            stores[name.strip()] = sites[normalise(code)]
        run = services.mapping_save(actor=actor, run=run, columns=columns, stores=stores)
        for header, target in run.columns.items():
            self.stdout.write(f"  {header} -> {target}")
        unknown = set(run.analysis.get("unknown_stores", {})) - {*stores}
        if unknown:
            self.stdout.write(
                _(
                    "Store names not matched (their rows are refused; use --store NAME=CODE): %(names)s"
                )
                % {"names": ", ".join(sorted(unknown))}
            )
        dry_run = options["dry_run"]
        services.run_request(
            actor=actor, run=run, dry_run=dry_run, valid_only=options["valid_only"], queue=False
        )
        last = [0.0]

        def echo(message):
            now = time.perf_counter()
            if now - last[0] >= 1:
                last[0] = now
                self.stdout.write(f"  {message}")

        run = services.run_process(run_id=run.pk, dry_run=dry_run, echo=echo)
        seconds = time.perf_counter() - started
        self._report(run, seconds)
        if options.get("report") and run.report_file:
            with run.report_file.open("rb") as handle:
                Path(options["report"]).write_bytes(handle.read())
            self.stdout.write(_("Checked file written: %(path)s") % {"path": options["report"]})
        if run.status in (ImportRun.Status.FAILED, ImportRun.Status.REFUSED):
            raise CommandError(run.get_status_display())

    def _report(self, run: ImportRun, seconds: float):
        for entry in run.report[:200]:
            for header, messages in entry["errors"].items():
                self.stdout.write(
                    _("row %(row)s, %(column)s: %(messages)s")
                    % {"row": entry["row"], "column": header or "-", "messages": " ".join(messages)}
                )
            for warning in entry["warnings"]:
                self.stdout.write(
                    _("row %(row)s (warning): %(message)s")
                    % {"row": entry["row"], "message": warning}
                )
        self.stdout.write(
            _(
                "%(file)s (SHA-256 %(sha)s): %(total)s rows, %(valid)s valid, %(refused)s refused, "
                "%(known)s already imported; %(created)s items created; %(status)s; %(seconds).1f s."
            )
            % {
                "file": run.file_name,
                "sha": run.sha256[:16],
                "total": run.rows_total,
                "valid": run.rows_valid,
                "refused": run.rows_refused,
                "known": run.rows_known,
                "created": run.rows_created,
                "status": run.get_status_display(),
                "seconds": seconds,
            }
        )
        if run.status == ImportRun.Status.DONE and run.rows_created == 0:
            self.stdout.write(_("Nothing new: every row of this file was imported already."))
