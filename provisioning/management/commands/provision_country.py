"""Provision or update a country from an inventory protocol file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.dbroles import connect_as_owner
from provisioning.output import result_lines
from provisioning.protocol import ProtocolInvalid, protocol_load
from provisioning.services import ProvisioningFailed, country_provision


class Command(BaseCommand):
    help = _(
        "Create a country from an inventory protocol (YAML), or apply the changes "
        "made to the file since the last run."
    )

    def add_arguments(self, parser):
        parser.add_argument("protocol", type=Path, help=_("the protocol file (YAML)"))
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("print what would be created, updated or deactivated, and change nothing"),
        )

    def handle(self, *args, protocol: Path, dry_run: bool, **options):
        # Creates the country's schema: the database owner's work (core.dbroles).
        connect_as_owner()
        try:
            spec = protocol_load(protocol)
            result = country_provision(protocol=spec, dry_run=dry_run)
        except ProtocolInvalid as exc:
            raise CommandError(
                _("%(file)s is not a valid protocol; nothing was changed:\n%(issues)s")
                % {"file": protocol, "issues": "\n".join(f"  {issue}" for issue in exc.issues)}
            ) from exc
        except ProvisioningFailed as exc:
            raise CommandError(str(exc)) from exc
        for line in result_lines(result):
            self.stdout.write(line)
