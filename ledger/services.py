"""Ledger writes that are not appends (country schema): the daily e-mail of a
signed checkpoint to the country's administrators.

The e-mail is one of the copies of the checkpoint kept outside the database
(ledger.checkpoints): an administrator's mailbox holds where the chain ended
each day, so cutting entries off the end later is caught by
``verify_ledger --checkpoint`` with any of them.
"""

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from tenants.models import Country

from . import checkpoints, signing


def administrators_emails() -> list[str]:
    """Addresses of the current country's active users who manage users."""
    admins = (
        User.objects.filter(is_active=True)
        .filter(
            Q(groups__permissions__codename="manage_users")
            | Q(user_permissions__codename="manage_users")
            | Q(is_superuser=True)
        )
        .exclude(email="")
        .distinct()
    )
    return sorted(set(admins.values_list("email", flat=True)))


def checkpoint_mail() -> int:
    """E-mail a checkpoint of the current country's ledger, with its JSON file,
    to its administrators; returns the number of recipients. A ledger whose end
    does not verify gets an e-mail saying so instead (no checkpoint is signed
    for it)."""
    country = Country.objects.get(schema_name=connection.schema_name)
    recipients = administrators_emails()
    if not recipients:
        return 0
    try:
        checkpoint = checkpoints.take()
    except checkpoints.CheckpointUnavailable:
        checkpoint = None
    with translation.override(country.default_language or settings.LANGUAGE_CODE):
        if checkpoint is None:
            subject = _("%(country)s: the custody ledger does not verify") % {
                "country": country.name
            }
            body = _(
                "No checkpoint of the custody ledger of %(country)s could be signed today: "
                "the end of the chain does not verify. Run the Ledger check (or "
                "manage.py verify_ledger --country %(code)s) to see which entry is wrong.\n"
            ) % {"country": country.name, "code": country.code}
            message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        else:
            subject = _("%(country)s: custody ledger checkpoint %(sequence)s") % {
                "country": country.name,
                "sequence": checkpoint.sequence,
            }
            body = _(
                "The custody ledger of %(country)s ended at entry %(sequence)s on %(time)s "
                "(UTC). Keep this e-mail: it is signed evidence of that.\n\n"
                "If entries at the end of the ledger were ever removed, this checkpoint "
                "shows it. To check it later:\n\n"
                "    python manage.py verify_ledger --checkpoint FILE\n\n"
                "with the attached file, or paste the checkpoint below on the Ledger check "
                "page.\n\n%(token)s\n\n"
                "Ledger signing key of %(country)s (Ed25519, base64): %(key)s\n"
                "Fingerprint: %(fingerprint)s\n"
            ) % {
                "country": country.name,
                "sequence": checkpoint.sequence,
                "time": checkpoint.time_text,
                "token": checkpoint.token(),
                "key": signing.public_key_text(),
                "fingerprint": signing.fingerprint(),
            }
            message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
            message.attach(checkpoint.filename, checkpoint.as_json(), "application/json")
    message.send()
    return len(recipients)
