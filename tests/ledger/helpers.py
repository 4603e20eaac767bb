"""What the ledger tests share: the database owner's tampering, and running
verify_ledger."""

import io

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.database_roles import triggers_off


def tamper(sql: str, params) -> None:
    """What someone with the database owner's password could do: switch the
    protecting triggers off for this transaction and rewrite history."""
    with triggers_off("custody_ledgerentry", "custody_ledgerhead") as cursor:
        cursor.execute(sql, params)


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
