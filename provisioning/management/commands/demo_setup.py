"""Provision the demo country (XD) with its demo users, and a platform-staff
account; print where to log in."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.dbroles import connect_as_owner
from provisioning.demo import demo_setup
from provisioning.protocol import ProtocolInvalid
from provisioning.services import CREATE, DEACTIVATE, UPDATE, ProvisioningFailed


class Command(BaseCommand):
    help = _(
        "Provision the demo country Demoland (XD) and its demo users, with printed "
        "passwords. Safe to run again."
    )

    def handle(self, *args, **options):
        # Creates the country's schema: the database owner's work (core.dbroles).
        connect_as_owner()
        try:
            result = demo_setup()
        except (ProtocolInvalid, ProvisioningFailed) as exc:
            raise CommandError(str(exc)) from exc
        provisioning = result.provisioning
        self.stdout.write(
            _(
                "Demo country %(code)s — %(name)s: %(created)s created, %(updated)s updated, "
                "%(deactivated)s deactivated."
            )
            % {
                "code": provisioning.code,
                "name": provisioning.name,
                "created": provisioning.count(CREATE),
                "updated": provisioning.count(UPDATE),
                "deactivated": provisioning.count(DEACTIVATE),
            }
        )
        headers = (_("Address"), _("Username"), _("Password"), _("Role"))
        rows = [
            (login.url, login.username, login.password, str(login.who)) for login in result.logins
        ]
        widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
        for index, row in enumerate([headers, *rows]):
            self.stdout.write(
                "  ".join(
                    str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        self.stdout.write(
            _(
                "The administrator and the platform staff set up two-factor authentication "
                "at their first login (an authenticator app such as FreeOTP or Aegis)."
            )
        )
