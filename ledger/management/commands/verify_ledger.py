"""Check the custody ledger of every country (or one, with --country): each
entry's hash, its link to the one before, its signature, no gap. Exit status
1 when a chain is broken, naming its first bad entry.

``--checkpoint`` takes a checkpoint (its token, as printed on documents, or
the JSON file of the download or the e-mail; ``-`` reads standard input) and
says whether the chain of its country still contains it — what catches
entries cut off the end.

Runs from the public side and enters each country schema explicitly.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from ledger import checkpoints, witness
from ledger.chain import verify_chain
from tenants.models import Country


def keep_checkpoint() -> None:
    """Keep where the verified chain ends, outside the database: the next
    check fails if entries before it are ever cut off (ledger.witness)."""
    try:
        checkpoints.take_and_keep()
    except checkpoints.CheckpointUnavailable:
        pass


class Command(BaseCommand):
    help = _("Verify the custody ledger's hash chain of every country, or of one.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--country", help=_("ISO code of the country to check (default: all countries).")
        )
        parser.add_argument(
            "--checkpoint",
            help=_(
                "A ledger checkpoint (its text, or a file holding it; - for standard input): "
                "say whether the chain still contains it."
            ),
        )

    def handle(self, *args, **options):
        countries = Country.objects.exclude(schema_name="public").order_by("code")
        if options.get("checkpoint"):
            return self.check_checkpoint(countries, options["checkpoint"], options.get("country"))
        if options.get("country"):
            countries = countries.filter(code=options["country"].upper())
            if not countries.exists():
                raise CommandError(_("No country %(code)s.") % {"code": options["country"]})
        broken = []
        for country in countries:
            with schema_context(country.schema_name):
                result = verify_chain(full=True)
                if result.ok:
                    keep_checkpoint()
                backfill = witness.backfill()
            self.report(country, result, backfill)
            if not result.ok:
                broken.append(country.code)
        if broken:
            raise CommandError(
                _("The custody ledger does not verify in: %(codes)s") % {"codes": ", ".join(broken)}
            )

    def report(self, country, result, backfill=None):
        if not result.ok:
            self.stdout.write(
                _("%(code)s: LEDGER BROKEN at entry %(sequence)s: %(message)s")
                % {
                    "code": country.code,
                    "sequence": result.problem.sequence,
                    "message": result.problem.message,
                }
            )
            return
        self.stdout.write(
            _("%(code)s: ledger intact, %(count)s entries checked.")
            % {"code": country.code, "count": result.checked}
        )
        self.stdout.write(
            _("%(code)s: every signature matches the country's ledger key %(fingerprint)s.")
            % {"code": country.code, "fingerprint": result.fingerprint}
        )
        if result.backfilled_to or backfill:
            self.stdout.write(
                _(
                    "%(code)s: entries 1 to %(last)s were written before signing existed and "
                    "were signed afterwards, on %(date)s by %(by)s (ledger_sign_backfill)."
                )
                % {
                    "code": country.code,
                    "last": result.backfilled_to or (backfill or {}).get("to", "?"),
                    "date": (backfill or {}).get("at")
                    or (
                        result.backfilled_at.strftime("%Y-%m-%d %H:%M UTC")
                        if result.backfilled_at
                        else "?"
                    ),
                    "by": (backfill or {}).get("by")
                    or _("someone unknown (no record outside the database)"),
                }
            )

    def check_checkpoint(self, countries, source: str, code: str | None):
        text = self.read(source)
        try:
            checkpoint = checkpoints.parse(text)
        except checkpoints.CheckpointInvalid as exc:
            raise CommandError(str(exc)) from exc
        if code and code.upper() != checkpoint.country:
            raise CommandError(
                _("This checkpoint is for country %(other)s, not %(here)s.")
                % {"other": checkpoint.country, "here": code.upper()}
            )
        country = countries.filter(code=checkpoint.country).first()
        if country is None:
            raise CommandError(_("No country %(code)s.") % {"code": checkpoint.country})
        with schema_context(country.schema_name):
            result = checkpoints.check(checkpoint, full=True)
            backfill = witness.backfill()
        self.stdout.write(f"{country.code}: {result.message}")
        if result.chain is not None:
            self.report(country, result.chain, backfill)
        if not result.ok:
            raise CommandError(
                _("The custody ledger of %(code)s does not pass the checkpoint check.")
                % {"code": country.code}
            )

    def read(self, source: str) -> str:
        if source == "-":
            return sys.stdin.read()
        if "SMS-LEDGER-CHECKPOINT" in source or source.lstrip().startswith("{"):
            return source  # the checkpoint itself, not a file name
        try:
            return Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(
                _("Can't read the checkpoint file %(path)s: %(error)s")
                % {"path": source, "error": exc.strerror}
            ) from exc
