"""What the ledger's checks remember outside the database, country by country.

Someone with the database owner's password can change any row, drop columns
and make a migration run again; what the database holds about its own past
proves nothing against them. Two facts are therefore kept in a small JSON
file per country under ``SMS_LEDGER_WITNESS_DIR`` (default ``var/ledger-witness``;
in production a writable volume of the worker and beat, not on the database
host and not in its backups):

- ``checkpoint``: the last signed checkpoint the system issued and kept
  (the daily e-mail, ``verify_ledger``, ``verify_evidence``). Every check of
  the chain (ledger.chain.verify_chain: the Ledger check page, both
  commands, the nightly run) fails when the chain no longer contains it, and
  no new checkpoint is signed for a chain that ends before it. It only moves
  forward.
- ``backfill``: the one explicit signing of entries written before signing
  existed (``manage.py ledger_sign_backfill``): up to which entry, when, by
  whom. Its presence, or a kept checkpoint, makes the command refuse to sign
  anything again.

A file per database (its name) and country (its schema): two databases of one
deployment never mix their records.
"""

import json
import logging
import os
from pathlib import Path

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


def directory() -> Path:
    base = Path(settings.SMS_LEDGER_WITNESS_DIR)
    return base / settings.DATABASES["default"]["NAME"]


def _path(schema: str | None) -> Path:
    return directory() / f"{schema or connection.schema_name}.json"


def read(schema: str | None = None) -> dict:
    """The country's record ({} when there is none or it is unreadable)."""
    try:
        data = json.loads(_path(schema).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning("ledger witness %s unreadable: %s", _path(schema), exc)
        return {"unreadable": True}
    return data if isinstance(data, dict) else {"unreadable": True}


def _write(schema: str | None, data: dict) -> bool:
    path = _path(schema)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        logger.error("ledger witness %s not written: %s", path, exc)
        return False
    return True


def recorded_checkpoint(schema: str | None = None) -> dict | None:
    """The last kept checkpoint's fields (country, sequence, hash, taken_at,
    signature), or None."""
    value = read(schema).get("checkpoint")
    return value if isinstance(value, dict) else None


def record_checkpoint(fields: dict, schema: str | None = None) -> bool:
    """Keep ``fields`` (a checkpoint's as_dict()) as the last checkpoint,
    unless the one kept is further along (the record never moves back)."""
    data = read(schema)
    if data.get("unreadable"):
        return False
    kept = data.get("checkpoint") or {}
    if int(kept.get("sequence") or 0) > int(fields["sequence"]):
        return False
    data["checkpoint"] = {
        k: fields[k] for k in ("country", "sequence", "hash", "taken_at", "signature")
    }
    return _write(schema, data)


def backfill(schema: str | None = None) -> dict | None:
    value = read(schema).get("backfill")
    return value if isinstance(value, dict) else None


def record_backfill(*, to: int, at: str, by: str, schema: str | None = None) -> bool:
    data = read(schema)
    data.pop("unreadable", None)
    data["backfill"] = {"to": to, "at": at, "by": by}
    return _write(schema, data)
