"""Remove a user's authenticator app and backup codes (lost phone).

Runs in the schema of the country given (``--country XA``), or in the public
schema for platform staff when no country is given.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from accounts import services
from accounts.models import User
from tenants.models import Country


class Command(BaseCommand):
    # Operators' text, like Django's own commands: read at import, before any language is active.
    help = "Remove a user's two-step sign-in so they set it up again at their next sign-in."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--country",
            help=_("ISO code of the user's country; omit for platform staff."),
        )

    def handle(self, *args, username, country, **options):
        schema = get_public_schema_name()
        if country:
            found = Country.objects.filter(code=country.upper()).first()
            if found is None:
                raise CommandError(_("No country with code %(code)s.") % {"code": country})
            schema = found.schema_name
        with schema_context(schema):
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(
                    _("No user %(username)s in schema %(schema)s.")
                    % {"username": username, "schema": schema}
                )
            services.two_factor_reset(user=user)
        self.stdout.write(
            _("Two-step sign-in removed for %(username)s (%(schema)s).")
            % {"username": username, "schema": schema}
        )
