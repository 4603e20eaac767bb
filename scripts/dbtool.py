"""Database helpers for ./sms (run with the project's virtual environment).

    dbtool.py check URL      exit 0 when the server behind URL accepts a connection
    dbtool.py create         create the database named in $DATABASE_URL when missing
    dbtool.py free-port N    print the first TCP port >= N free on 127.0.0.1

Only psycopg, dj-database-url and the standard library: no Django settings,
so this runs before anything is migrated.
"""

import os
import socket
import sys
import time

import dj_database_url
import psycopg
from psycopg import sql


def _connect(url: str, dbname: str | None = None, timeout: int = 3) -> psycopg.Connection:
    cfg = dj_database_url.parse(url)
    params = {
        "host": cfg.get("HOST") or None,
        "port": cfg.get("PORT") or None,
        "user": cfg.get("USER") or None,
        "password": cfg.get("PASSWORD") or None,
        "dbname": dbname or cfg.get("NAME") or "postgres",
        "connect_timeout": timeout,
        **cfg.get("OPTIONS", {}),
    }
    return psycopg.connect(
        autocommit=True, **{key: value for key, value in params.items() if value}
    )


def check(url: str) -> int:
    # The maintenance database, not the project's: it may not exist yet.
    for dbname in ("postgres", "template1"):
        try:
            _connect(url, dbname).close()
            return 0
        except psycopg.Error as exc:
            error = exc
    print(f"sms: {error}".strip(), file=sys.stderr)
    return 1


def create() -> int:
    url = os.environ["DATABASE_URL"]
    name = dj_database_url.parse(url).get("NAME")
    if not name:
        print("sms: DATABASE_URL names no database", file=sys.stderr)
        return 2
    deadline = time.monotonic() + float(os.environ.get("SMS_DB_WAIT_SECONDS", "30"))
    while True:
        try:
            _connect(url).close()
            return 0  # already there
        except psycopg.OperationalError as exc:
            target_error = exc
        for maintenance in ("postgres", "template1"):
            try:
                with _connect(url, maintenance) as conn:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"sms: created database {name}", file=sys.stderr)
                return 0
            except psycopg.errors.DuplicateDatabase:
                return 0
            except psycopg.Error as exc:
                maintenance_error = exc
        if time.monotonic() > deadline:
            print(
                f"sms: cannot reach or create database {name!r}:\n  {target_error}\n"
                f"  {maintenance_error}",
                file=sys.stderr,
            )
            return 1
        time.sleep(1)


def free_port(start: int) -> int:
    for port in range(start, start + 200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        print(port)
        return 0
    print(f"sms: no free port from {start}", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "check":
        return check(argv[1])
    if argv == ["create"]:
        return create()
    if len(argv) == 2 and argv[0] == "free-port":
        return free_port(int(argv[1]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
