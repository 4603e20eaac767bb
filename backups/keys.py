"""The key options the archive commands share (--passphrase-file,
--recipient, --identity): a passphrase is read from a file (or standard
input), never from the command line itself, where other users of the
machine could read it in the process list."""

import sys
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from .crypto import ArchiveError, Identity, Passphrase, Recipient

SUFFIX = ".smsx"


def read_passphrase(source: str) -> Passphrase:
    try:
        text = sys.stdin.readline() if source == "-" else Path(source).read_text("utf-8")
    except OSError as exc:
        raise CommandError(
            _("Can't read the passphrase file %(path)s: %(error)s")
            % {"path": source, "error": exc.strerror}
        ) from exc
    text = text.splitlines()[0] if text.strip() else ""
    if not text:
        raise CommandError(_("The passphrase file %(path)s is empty.") % {"path": source})
    return Passphrase(text)


def encryption_from(options):
    if bool(options.get("passphrase_file")) == bool(options.get("recipient")):
        raise CommandError(
            _("Give exactly one of --passphrase-file and --recipient: archives are encrypted.")
        )
    try:
        if options.get("recipient"):
            return Recipient.from_file(Path(options["recipient"]))
        passphrase = read_passphrase(options["passphrase_file"])
        passphrase.validate_for_encryption()
        return passphrase
    except ArchiveError as exc:
        raise CommandError(str(exc)) from exc


def decryption_from(options):
    if bool(options.get("passphrase_file")) == bool(options.get("identity")):
        raise CommandError(_("Give exactly one of --passphrase-file and --identity."))
    try:
        if options.get("identity"):
            return Identity.from_file(Path(options["identity"]))
        return read_passphrase(options["passphrase_file"])
    except ArchiveError as exc:
        raise CommandError(str(exc)) from exc


def archive_name(code: str) -> str:
    """sms-XA-20261130T083000Z.smsx: newest last when sorted by name."""
    return f"sms-{code.upper()}-{timezone.now():%Y%m%dT%H%M%SZ}{SUFFIX}"


def output_path(code: str, output: str) -> Path:
    path = Path(output)
    return path / archive_name(code) if path.is_dir() else path
