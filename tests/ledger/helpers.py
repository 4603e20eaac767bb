"""What the ledger tests share: the database owner's tampering (a cut
tail among it), and running verify_ledger."""

import io

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ledger.models import LedgerEntry
from tests.database_roles import triggers_off


def tamper(sql: str, params) -> None:
    """What someone with the database owner's password could do: switch the
    protecting triggers off for this transaction and rewrite history."""
    with triggers_off("custody_ledgerentry", "custody_ledgerhead") as cursor:
        cursor.execute(sql, params)


def cut_the_tail(keep: int) -> None:
    """The attack: delete every entry after ``keep`` and reset the head to it."""
    kept = LedgerEntry.objects.get(sequence=keep)
    tamper("DELETE FROM custody_ledgerentry WHERE sequence > %s", [keep])
    tamper(
        "UPDATE custody_ledgerhead SET last_sequence = %s, last_hash = %s WHERE id = 1",
        [kept.sequence, kept.hash],
    )


def call_verify_ledger(*args, stdin: str | None = None) -> tuple[str, str]:
    """verify_ledger's output and its error ("" when it exits 0); the
    connection is back on XA's schema afterwards."""
    import sys

    out, error = io.StringIO(), ""
    saved = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        call_command("verify_ledger", *args, stdout=out)
    except CommandError as exc:
        error = str(exc)
    finally:
        sys.stdin = saved
        connection.set_schema("xa")
    return out.getvalue(), error
