"""Sign, once, the custody ledger entries of a country written before entries
were signed (an upgrade from a version without signing).

Without ``--confirm`` it only says what it would sign. It signs the entries
whose sequence, link and hash check out, from the first, and stops at the
first that does not (verify_ledger then names it). It refuses when the
ledger shows any sign of having been signed before: an entry with a
signature, an earlier signing recorded in the head or outside the database,
a checkpoint kept outside the database, an entry written after the signing
key was made. Who ran it and when is recorded, and verify_ledger prints it.

Runs as the database owner (the never-update trigger is switched off for its
transaction only) and needs the signing key (SMS_LEDGER_SIGNING_KEY_FILE).
See README, "Signing and checkpoints".
"""

import getpass

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from core.dbroles import connect_as_owner
from ledger import services
from tenants.models import Country


class Command(BaseCommand):
    help = _("Sign, once, the ledger entries of a country written before signing existed.")

    def add_arguments(self, parser):
        parser.add_argument("--country", required=True, help=_("ISO code of the country."))
        parser.add_argument(
            "--confirm",
            action="store_true",
            help=_("Sign (without it, only say what would be signed)."),
        )
        parser.add_argument(
            "--operator",
            default="",
            help=_("Who signs, as recorded (default: the system user running the command)."),
        )

    def handle(self, *args, **options):
        connect_as_owner()
        code = options["country"].upper()
        country = Country.objects.exclude(schema_name="public").filter(code=code).first()
        if country is None:
            raise CommandError(_("No country %(code)s.") % {"code": options["country"]})
        by = options["operator"] or getpass.getuser()
        with schema_context(country.schema_name):
            plan = services.backfill_plan()
            if plan.refused:
                for line in plan.refusals:
                    self.stdout.write(f"{code}: {line}")
                raise CommandError(
                    _(
                        "%(code)s: the custody ledger was signed before; nothing signed. "
                        "Signing old entries again would vouch for whatever the database "
                        "holds now: run verify_ledger to see what changed."
                    )
                    % {"code": code}
                )
            if not plan.sign_to:
                self.stdout.write(_("%(code)s: no entry to sign.") % {"code": code})
                if plan.stop:
                    self.stdout.write(f"{code}: {plan.stop}")
                return
            self.stdout.write(
                _("%(code)s: entries 1 to %(to)s of %(count)s check out and would be signed.")
                % {"code": code, "to": plan.sign_to, "count": plan.entries}
            )
            if plan.stop:
                self.stdout.write(
                    _("%(code)s: signing stops at %(stop)s") % {"code": code, "stop": plan.stop}
                )
            if not options["confirm"]:
                self.stdout.write(_("Nothing signed: run again with --confirm to sign."))
                return
            done = services.backfill_sign(by=by)
            if done.refused:
                raise CommandError(_("%(code)s: refused; nothing signed.") % {"code": code})
            self.stdout.write(
                _("%(code)s: entries 1 to %(to)s signed, recorded as signed by %(by)s.")
                % {"code": code, "to": done.sign_to, "by": by}
            )
