"""Write one country's whole data — its schema, public rows, media files and
a manifest of hashes — to one encrypted archive (README, "Backups, export
and restore")."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from backups.crypto import ArchiveError
from backups.keys import encryption_from, output_path
from backups.services import country_export


class Command(BaseCommand):
    help = _("Export one country's data (schema, media, manifest) to an encrypted archive.")

    def add_arguments(self, parser):
        parser.add_argument("code", help=_("ISO code of the country."))
        parser.add_argument(
            "--output",
            required=True,
            help=_("The archive file to write, or a folder (the file is then named for you)."),
        )
        parser.add_argument(
            "--passphrase-file",
            help=_("Encrypt with the passphrase in this file ('-': standard input)."),
        )
        parser.add_argument(
            "--recipient",
            help=_("Encrypt for the holder of this X25519 public key (PEM file)."),
        )

    def handle(self, *args, **options):
        encryption = encryption_from(options)
        path = output_path(options["code"], options["output"])
        try:
            result = country_export(code=options["code"], output=path, encryption=encryption)
        except ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        manifest = result.manifest
        self.stdout.write(
            _(
                "%(code)s exported to %(path)s: %(tables)s tables, %(rows)s rows, %(files)s "
                "media files, ledger at entry %(sequence)s."
            )
            % {
                "code": manifest["country"]["code"],
                "path": result.path,
                "tables": len(manifest["tables"]),
                "rows": sum(manifest["tables"].values()),
                "files": manifest["media"]["files"],
                "sequence": manifest["ledger"]["sequence"],
            }
        )
