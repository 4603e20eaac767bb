"""The restore drill: the latest backup of each country (or of those named)
restored into a scratch database, checked there, compared with production,
reported on the platform console and by e-mail; the scratch copy dropped.
Exit status 1 when the drill failed."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from backups.drill import drill_run, drill_summary


class Command(BaseCommand):
    help = _("Restore the latest backups into a scratch database and check them there.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--country",
            action="append",
            dest="codes",
            help=_("ISO code of a country to drill (repeatable; default: every country)."),
        )
        parser.add_argument(
            "--no-email", action="store_true", help=_("Record the result but send no e-mail.")
        )

    def handle(self, *args, **options):
        drill = drill_run(codes=options.get("codes"), notify=not options["no_email"])
        self.stdout.write(drill_summary(drill))
        for line in drill.problems:
            self.stdout.write(f"  - {line}")
        if drill.problems:
            raise CommandError(_("The restore drill failed."))
