"""Database helpers for ./sms and the deployment files (run with the project's Python).

    dbtool.py check URL      exit 0 when the server behind URL accepts a connection
    dbtool.py create         create the database named in $DATABASE_OWNER_URL (or, without
                             it, $DATABASE_URL) when missing
    dbtool.py free-port N    print the first TCP port >= N free on 127.0.0.1
    dbtool.py roles          with $SMS_DB_ADMIN_URL (a role that may create roles and
                             databases): make the owner role of $DATABASE_OWNER_URL and the
                             application role of $DATABASE_URL, the database owned by the
                             owner, and everything in it too (an older installation's tables
                             are handed over). Safe to run again. See deploy/README.md.
    dbtool.py local-roles ADMIN_URL DBNAME VARDIR
                             ./sms's roles on a development server: DBNAME_owner and
                             DBNAME_app, with passwords generated once and kept in
                             VARDIR/db-roles/; as `roles`, plus what the test suite needs
                             (the owner may create the test database and SET ROLE to the
                             application). Prints DATABASE_URL and DATABASE_OWNER_URL.

Only psycopg, dj-database-url and the standard library: no Django settings,
so this runs before anything is migrated. Why two roles: README, "Database roles".
"""

import os
import secrets
import socket
import sys
import time
from pathlib import Path

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
    url = os.environ.get("DATABASE_OWNER_URL") or os.environ["DATABASE_URL"]
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


# --- The two roles ----------------------------------------------------------------


def _role(url: str) -> tuple[str, str | None]:
    cfg = dj_database_url.parse(url)
    if not cfg.get("USER"):
        raise SystemExit(f"sms: {url.split('@')[-1]} names no user")
    return cfg["USER"], cfg.get("PASSWORD") or None


def _role_ensure(conn, name: str, password: str | None, attributes: str) -> None:
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone()
    verb = "ALTER" if exists else "CREATE"
    statement = sql.SQL("{} ROLE {} WITH LOGIN " + attributes).format(
        sql.SQL(verb), sql.Identifier(name)
    )
    if password:
        statement += sql.SQL(" PASSWORD {}").format(sql.Literal(password))
    conn.execute(statement)


def _adopt(conn, owner: str) -> int:
    """Hand the database's schemas, tables, sequences and functions to the owner.

    An installation from before the roles were split has them owned by
    whoever migrated it (often a superuser)."""
    ident = sql.Identifier(owner)
    changes = 0
    schemas = conn.execute(
        """SELECT n.nspname FROM pg_namespace n
            WHERE left(n.nspname, 3) <> 'pg_' AND n.nspname <> 'information_schema'
              AND n.nspowner <> (SELECT oid FROM pg_roles WHERE rolname = %(owner)s)
              AND n.nspowner IS DISTINCT FROM to_regrole('pg_database_owner')""",
        {"owner": owner},
    ).fetchall()
    for (schema,) in schemas:
        conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(sql.Identifier(schema), ident))
        changes += 1
    # Tables carry their indexes and the sequences of their columns along.
    relations = conn.execute(
        """SELECT n.nspname, c.relname, c.relkind FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE left(n.nspname, 3) <> 'pg_' AND n.nspname <> 'information_schema'
              AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = %(owner)s)
              AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
              AND NOT (c.relkind = 'S' AND EXISTS (
                  SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
                  AND d.deptype IN ('a', 'i')))""",
        {"owner": owner},
    ).fetchall()
    kinds = {"v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE", "S": "SEQUENCE"}
    for schema, name, kind in relations:
        conn.execute(
            sql.SQL("ALTER {} {}.{} OWNER TO {}").format(
                sql.SQL(kinds.get(kind, "TABLE")),
                sql.Identifier(schema),
                sql.Identifier(name),
                ident,
            )
        )
        changes += 1
    functions = conn.execute(
        """SELECT p.oid::regprocedure::text FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE left(n.nspname, 3) <> 'pg_' AND n.nspname <> 'information_schema'
              AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = %(owner)s)
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                              AND d.objid = p.oid AND d.deptype = 'e')""",
        {"owner": owner},
    ).fetchall()
    for (signature,) in functions:
        conn.execute(sql.SQL("ALTER ROUTINE {} OWNER TO {}").format(sql.SQL(signature), ident))
        changes += 1
    return changes


def roles(admin_url: str, *, development: bool = False) -> int:
    """Make both roles and the database as README's "Database roles" says; safe to repeat."""
    app_url = os.environ.get("DATABASE_URL", "")
    owner_url = os.environ.get("DATABASE_OWNER_URL", "")
    if not app_url or not owner_url:
        print("sms: roles needs DATABASE_URL and DATABASE_OWNER_URL", file=sys.stderr)
        return 2
    app, app_password = _role(app_url)
    owner, owner_password = _role(owner_url)
    name = dj_database_url.parse(owner_url).get("NAME")
    if app == owner or not name:
        print("sms: the owner and the application need two roles and a database", file=sys.stderr)
        return 2
    with _connect(admin_url) as admin:
        # The owner may create the test database (pytest-django) only in development.
        createdb = "CREATEDB" if development else "NOCREATEDB"
        _role_ensure(
            admin,
            owner,
            owner_password,
            f"NOSUPERUSER {createdb} NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        )
        _role_ensure(
            admin,
            app,
            app_password,
            "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        )
        # Never the application inside the owner (it would inherit everything).
        if admin.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [app, owner]).fetchone()[0]:
            admin.execute(
                sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(owner), sql.Identifier(app))
            )
        if development:
            # The test suite logs in as the owner and runs each test as the application
            # (SET ROLE), see tests/database_roles.py.
            admin.execute(
                sql.SQL("GRANT {} TO {}").format(sql.Identifier(app), sql.Identifier(owner))
            )
        databases = [name] + ([f"test_{name}"] if development else [])
        for database in databases:
            row = admin.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [database]
            ).fetchone()
            if row is None:
                if database != name:
                    continue  # pytest-django makes its own
                admin.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(database), sql.Identifier(owner)
                    )
                )
                print(f"sms: created database {database}", file=sys.stderr)
            elif row[0] != owner:
                admin.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                        sql.Identifier(database), sql.Identifier(owner)
                    )
                )
            admin.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                    sql.Identifier(database), sql.Identifier(app)
                )
            )
            with _connect(admin_url, database) as conn:
                # PostgreSQL 14 and older let everyone create tables in public.
                try:
                    conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
                except psycopg.errors.InsufficientPrivilege as exc:
                    print(f"sms: {database}: {exc}".strip(), file=sys.stderr)
                with conn.transaction():
                    adopted = _adopt(conn, owner)
                if adopted:
                    print(f"sms: {database}: {adopted} objects handed to {owner}", file=sys.stderr)
    return 0


def local_roles(admin_url: str, name: str, var: str) -> int:
    """./sms's two roles for database ``name``, passwords kept under ``var``."""
    folder = Path(var) / "db-roles"
    folder.mkdir(parents=True, exist_ok=True)
    cfg = dj_database_url.parse(admin_url)
    host = cfg.get("HOST") or "127.0.0.1"
    port = cfg.get("PORT") or 5432
    urls = {}
    for kind in ("app", "owner"):
        role = f"{name}_{kind}"
        secret = folder / role
        if not secret.exists():
            fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(24) + "\n")
        password = secret.read_text().strip()
        urls[kind] = f"postgres://{role}:{password}@{host}:{port}/{name}"
    os.environ["DATABASE_URL"] = urls["app"]
    os.environ["DATABASE_OWNER_URL"] = urls["owner"]
    status = roles(admin_url, development=True)
    if status == 0:
        print(urls["app"])
        print(urls["owner"])
    return status


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
    if argv == ["roles"] and os.environ.get("SMS_DB_ADMIN_URL"):
        return roles(os.environ["SMS_DB_ADMIN_URL"])
    if len(argv) == 4 and argv[0] == "local-roles":
        return local_roles(*argv[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
