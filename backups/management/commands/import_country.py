"""Recreate a country from its archive (export_country): on another
deployment, or — with --replace — over the same country of a running
platform, without touching the others. The archive is checked whole before
anything is written; then the evidence is checked where it landed."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from administration.evidence import evidence_verify
from backups.crypto import ArchiveError
from backups.keys import decryption_from
from backups.services import country_import
from core.dbroles import connect_as_owner


class Command(BaseCommand):
    help = _("Import a country from an archive written by export_country.")

    def add_arguments(self, parser):
        parser.add_argument("path", help=_("The archive file."))
        parser.add_argument(
            "--passphrase-file",
            help=_("The archive's passphrase is in this file ('-': standard input)."),
        )
        parser.add_argument(
            "--identity", help=_("The X25519 private key (PEM file) the archive was made for.")
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help=_(
                "Restore over the existing country of that code (its current schema is kept "
                "under another name)."
            ),
        )
        parser.add_argument(
            "--no-evidence-check",
            action="store_true",
            help=_("Skip the evidence check after the import (the restore drill runs its own)."),
        )
        parser.add_argument(
            "--workdir", help=_("Folder for the unpacked archive (default: the system's temp).")
        )

    def handle(self, *args, **options):
        # Restores a schema: the database owner's work (core.dbroles).
        connect_as_owner()
        decryption = decryption_from(options)
        try:
            result = country_import(
                path=options["path"],
                decryption=decryption,
                replace=options["replace"],
                workdir=options.get("workdir") or None,
            )
        except ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        country, manifest = result.country, result.manifest
        self.stdout.write(
            _(
                "%(code)s imported: %(tables)s tables, %(rows)s rows, ledger at entry "
                "%(sequence)s; %(written)s media files written, %(present)s already there."
            )
            % {
                "code": country.code,
                "tables": len(manifest["tables"]),
                "rows": sum(manifest["tables"].values()),
                "sequence": manifest["ledger"]["sequence"],
                "written": result.media_written,
                "present": result.media_present,
            }
        )
        if result.replaced_schema:
            self.stdout.write(
                _(
                    "The schema as it was before is kept as %(schema)s; drop it (DROP SCHEMA "
                    "%(schema)s CASCADE) once the restored country is checked."
                )
                % {"schema": result.replaced_schema}
            )
        if result.migrated:
            self.stdout.write(
                _("Brought up to this version: %(count)s migration(s) applied.")
                % {"count": len(result.migrated)}
            )
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(warning))
        if options["no_evidence_check"]:
            return
        with schema_context(country.schema_name):
            report = evidence_verify(country_code=country.code)
        self.stdout.write(report.summary())
        for line in report.lines():
            self.stdout.write(f"  - {line}")
        if not report.ok:
            raise CommandError(
                _("%(code)s was imported, but its evidence does not verify (see above).")
                % {"code": country.code}
            )
