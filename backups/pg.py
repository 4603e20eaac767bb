"""PostgreSQL's own tools, run as programs: pg_dump for one schema, pg_restore
piped into psql for a restore in one transaction.

The client's major version must be at least the server's (pg_dump refuses a
newer server): the tools of the server's major version are taken from
/usr/lib/postgresql/<major>/bin (Debian's layout) when there, else from PATH
or SMS_PG_BIN_DIR.
"""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from .crypto import ArchiveError

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def quoted(name: str) -> str:
    """A schema or table name as SQL; only plain lower-case names are accepted
    (every name Django and SMS make), so quoting can't be escaped."""
    if not IDENTIFIER.match(name):
        raise ArchiveError(_("Unexpected name in the archive: %(name)r") % {"name": name})
    return f'"{name}"'


def server_major(using=None) -> int:
    with (using or connection).cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0]) // 10000


def server_version(using=None) -> str:
    with (using or connection).cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]


def tool(name: str, *, major: int) -> str:
    candidates = []
    if getattr(settings, "SMS_PG_BIN_DIR", ""):
        candidates.append(Path(settings.SMS_PG_BIN_DIR) / name)
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin/{name}"))
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            version = subprocess.run(
                [str(path), "--version"], capture_output=True, text=True, check=True
            ).stdout
            match = re.search(r"(\d+)(?:\.\d+)?", version)
            if match and int(match.group(1)) >= major:
                return str(path)
    raise ArchiveError(
        _(
            "No %(tool)s of PostgreSQL %(major)s or newer was found (install the "
            "PostgreSQL %(major)s client, or set SMS_PG_BIN_DIR)."
        )
        % {"tool": name, "major": major}
    )


def environment(settings_dict: dict | None = None) -> dict:
    """The libpq environment for the database of ``settings_dict`` (default:
    the connection's, which is the test database under pytest)."""
    db = settings_dict or connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if db.get(key):
            env[variable] = str(db[key])
    return env


def _run(args: list[str], *, env: dict, what: str) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise ArchiveError(
            _("%(what)s failed: %(error)s") % {"what": what, "error": result.stderr.strip()[-2000:]}
        )


def dump_schema(*, schema: str, path: Path, snapshot: str, major: int) -> None:
    """Every table, sequence, function and trigger of ``schema``, with its
    rows as of ``snapshot`` (pg_export_snapshot of the caller's transaction)."""
    _run(
        [
            tool("pg_dump", major=major),
            "--format=custom",
            f"--schema={schema}",
            f"--snapshot={snapshot}",
            "--no-owner",
            "--no-privileges",
            f"--file={path}",
        ],
        env=environment(),
        what="pg_dump",
    )


def restore_in_one_transaction(
    *, dump: Path, before_sql: str, after_sql: str, major: int, settings_dict: dict | None = None
) -> None:
    """``before_sql``, the dump and ``after_sql`` in ONE transaction (psql
    --single-transaction, stopping at the first error): all of it, or nothing.
    Objects are owned by the role that runs it (the migration owner); the
    dump's own owners and grants are not restored (the target may not have
    those roles)."""
    env = environment(settings_dict)
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        psql = subprocess.Popen(
            [
                tool("psql", major=major),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "-f",
                "-",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_err,
            env=env,
        )
        restore = subprocess.Popen(
            [
                tool("pg_restore", major=major),
                "--no-owner",
                "--no-privileges",
                "-f",
                "-",
                str(dump),
            ],
            stdout=subprocess.PIPE,
            stderr=restore_err,
            env=env,
        )
        try:
            psql.stdin.write(before_sql.encode("utf-8") + b"\n")
            while chunk := restore.stdout.read(1024 * 1024):
                psql.stdin.write(chunk)
            restore_code = restore.wait()
            if restore_code != 0:
                # Make psql's transaction fail rather than commit half a schema.
                psql.stdin.write(b"\nSELECT 1/0; -- pg_restore failed\n")
            else:
                psql.stdin.write(b"\n" + after_sql.encode("utf-8") + b"\n")
            psql.stdin.close()
        except BrokenPipeError:
            pass
        finally:
            restore.stdout.close()
            restore.wait()
        psql_code = psql.wait()
        restore_err.seek(0)
        restore_error = restore_err.read().decode(errors="replace").strip()[-2000:]
        if psql_code != 0:
            # psql's error comes first: when it stops early, pg_restore only
            # sees its pipe closed.
            psql_err.seek(0)
            raise ArchiveError(
                _("The restore was rolled back: %(error)s")
                % {"error": psql_err.read().decode(errors="replace").strip()[-2000:]}
            )
        if restore.returncode != 0:
            raise ArchiveError(_("pg_restore failed: %(error)s") % {"error": restore_error})
