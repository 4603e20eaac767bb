"""The two database roles (wiring; the public schema and every country schema).

A deployment connects with two PostgreSQL roles:

- the **owner** (``DATABASE_OWNER_URL``) owns the database, its schemas and
  every table. Only migrations (``migrate_schemas``), provisioning
  (``provision_country``, ``demo_setup``), which creates country schemas, and
  ``rebuild_report_totals`` connect as it: they call :func:`connect_as_owner`
  before anything else;
- the **application** (``DATABASE_URL``: web, Celery worker and beat, every
  other command) owns nothing, is no superuser and can't create roles,
  databases or schemas. It can't ``ALTER TABLE … DISABLE TRIGGER`` (only an
  owner can) nor ``SET session_replication_role`` (superusers only), so the
  never-delete triggers hold against it.

After every migration of a schema, and after a new country's schema is made
(copied or migrated), :func:`grant_application_role` gives the application
exactly the privileges it needs there: ``USAGE`` on the schema, ``USAGE,
SELECT`` on sequences, ``SELECT, INSERT, UPDATE, DELETE`` on tables but no
``DELETE`` on a never-delete table, no ``UPDATE`` on an append-only one, only
``SELECT`` on ``django_migrations``, and never ``TRUNCATE``, ``REFERENCES`` or
``TRIGGER``. Which tables are never-delete or append-only is read from the
models' triggers, so the privileges refuse what the triggers refuse. That
matters because django-pgtrigger's switch ``SET pgtrigger.ignore`` is open to
any role that can write a table; without the privilege there is nothing to
switch. The grants run from django-tenants' ``post_schema_sync`` too, so a
country copied from the template schema (which itself gets nothing: rows
written there would be copied into every new country) is covered as well.

Production refuses to start (:func:`refuse_privileged_role`, called by the
WSGI module and, through core.apps, by Celery's worker and beat) when
``DATABASE_URL`` logs in as a superuser, as the owner (or a member of it), or
as any role that owns something or may create schemas. See README,
"Database roles".
"""

import logging

import dj_database_url
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django_tenants.utils import get_public_schema_name, get_tenant_model

logger = logging.getLogger(__name__)

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
SEQUENCE_PRIVILEGES = ("USAGE", "SELECT")
# Django's record of applied migrations: read at most, never written, by the application.
READ_ONLY_TABLES = {"django_migrations": ("SELECT",)}
# The owner's login: everything about where and how to connect, except the database name,
# which stays the one the process uses (pytest-django's test database, for one).
_LOGIN_KEYS = ("USER", "PASSWORD", "HOST", "PORT")


def application_role() -> str:
    """The role ``DATABASE_URL`` logs in as ('' when it names none)."""
    return settings.SMS_DATABASE_APP_ROLE


def owner_settings() -> dict | None:
    """``DATABASE_OWNER_URL`` parsed (None when unset)."""
    url = settings.SMS_DATABASE_OWNER_URL
    return dj_database_url.parse(url) if url else None


def roles_split() -> bool:
    """True when the owner and the application are two roles."""
    owner = owner_settings()
    return bool(owner and application_role() and owner.get("USER") != application_role())


def connect_as_owner(using: str = DEFAULT_DB_ALIAS) -> None:
    """Make this process's connection log in as the owner (first thing in an owner command).

    Nothing to do when it already does (a command called from another one,
    the test harness). Without ``DATABASE_OWNER_URL`` development goes on with
    its one role; production stops with the reason.
    """
    owner = owner_settings()
    if owner is None:
        if settings.PRODUCTION:
            raise ImproperlyConfigured(
                "This command creates or changes tables and runs as the database owner: "
                "set DATABASE_OWNER_URL (see deploy/README.md, 'Database roles')."
            )
        return
    connection = connections[using]
    current = connection.settings_dict
    if all(current.get(key) == owner.get(key) for key in _LOGIN_KEYS):
        return
    if connection.in_atomic_block:
        raise RuntimeError("connect_as_owner() inside a transaction: call it before any query.")
    connection.close()
    for key in _LOGIN_KEYS:
        current[key] = owner.get(key)
    current["OPTIONS"] = {**current.get("OPTIONS", {}), **owner.get("OPTIONS", {})}


# --- What the models refuse ----------------------------------------------------


def refused_operations() -> dict[str, set[str]]:
    """{table: {"DELETE", "UPDATE", "TRUNCATE"} …} the models' triggers always refuse.

    A trigger with a condition (e.g. ``reportrun_snapshot_fixed``) refuses
    only some rows: the privilege stays, the trigger decides."""
    import pgtrigger

    from core.triggers import ProtectTruncate

    refused: dict[str, set[str]] = {}
    for model, trigger in pgtrigger.registered():
        if not isinstance(trigger, pgtrigger.Protect | ProtectTruncate):
            continue
        if trigger.condition is not None or model._meta.proxy or not model._meta.managed:
            continue
        operations = {str(operation) for operation in trigger.operation}
        refused.setdefault(model._meta.db_table, set()).update(operations)
    return refused


def table_privileges(table: str, refused: dict[str, set[str]]) -> tuple[str, ...]:
    if table in READ_ONLY_TABLES:
        return READ_ONLY_TABLES[table]
    return tuple(p for p in TABLE_PRIVILEGES if p not in refused.get(table, ()))


# --- Grants ----------------------------------------------------------------------

_CURRENT_GRANTS = """
    SELECT c.relname, c.relkind,
           coalesce(array_agg(a.privilege_type::text) FILTER (WHERE a.privilege_type IS NOT NULL),
                    '{}')
    FROM pg_class c
    LEFT JOIN LATERAL aclexplode(c.relacl) a
           ON a.grantee = (SELECT oid FROM pg_roles WHERE rolname = %(role)s)
    WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = %(schema)s)
      AND c.relkind IN ('r', 'p', 'S')
      AND pg_has_role(current_user, c.relowner, 'USAGE')
    GROUP BY c.relname, c.relkind
"""


def grant_application_role(
    *, schema_name: str, served: bool | None = None, using: str = DEFAULT_DB_ALIAS
) -> int:
    """Give the application role exactly its privileges in ``schema_name``.

    Runs as the owner; changes only what differs (so repeating it costs one
    query) and returns how many statements that took. A schema that is
    neither ``public`` nor a country's (the template new countries are copied
    from) gets nothing: what the application could write there would be
    copied into every new country. ``served`` says which it is when the
    Country row can't (None: look it up). Does nothing with one role for
    everything (development without ``DATABASE_OWNER_URL``).
    """
    if not roles_split():
        return 0
    role = application_role()
    connection = connections[using]
    quote = connection.ops.quote_name
    refused = refused_operations()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_schema_privilege(%(role)s, n.oid, 'USAGE'),"
            " has_schema_privilege(%(role)s, n.oid, 'CREATE'),"
            " pg_has_role(current_user, n.nspowner, 'USAGE')"
            " FROM pg_namespace n WHERE n.nspname = %(schema)s",
            {"role": role, "schema": schema_name},
        )
        row = cursor.fetchone()
        if row is None or not row[2]:
            return 0  # no such schema, or not ours to grant
        usage, create, _owned = row
        if served is None:
            served = schema_name == get_public_schema_name() or (
                get_tenant_model().objects.using(using).filter(schema_name=schema_name).exists()
            )
        schema, grantee = quote(schema_name), quote(role)
        statements = []
        if usage != served:
            verb = (
                "GRANT USAGE ON SCHEMA {} TO {}" if served else "REVOKE USAGE ON SCHEMA {} FROM {}"
            )
            statements.append(verb.format(schema, grantee))
        if create:
            statements.append(f"REVOKE CREATE ON SCHEMA {schema} FROM {grantee}")
        cursor.execute(_CURRENT_GRANTS, {"role": role, "schema": schema_name})
        for name, kind, held in cursor.fetchall():
            if not served:
                wanted = set()
            elif kind == "S":
                wanted = set(SEQUENCE_PRIVILEGES)
            else:
                wanted = set(table_privileges(name, refused))
            held = set(held)
            target = f"{'SEQUENCE' if kind == 'S' else 'TABLE'} {schema}.{quote(name)}"
            if held - wanted:
                revoked = ", ".join(sorted(held - wanted))
                statements.append(f"REVOKE {revoked} ON {target} FROM {grantee}")
            if wanted - held:
                statements.append(
                    f"GRANT {', '.join(sorted(wanted - held))} ON {target} TO {grantee}"
                )
        if statements:
            with transaction.atomic(using=using):
                cursor.execute(";\n".join(statements))
    return len(statements)


def grant_after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate: the schema just migrated (django-tenants sets it on the connection)."""
    grant_application_role(schema_name=connections[using].schema_name, using=using)


def grant_after_schema_sync(sender, tenant, **kwargs) -> None:
    """django-tenants' post_schema_sync: a new country's schema, copied or migrated."""
    grant_application_role(schema_name=tenant.schema_name)


# --- What the application must not be -------------------------------------------

_ROLE_CHECK = """
    SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls, r.rolreplication,
           pg_has_role(session_user, d.datdba, 'MEMBER'),
           has_database_privilege(session_user, d.datname, 'CREATE'),
           EXISTS (SELECT 1 FROM pg_namespace n
                   WHERE left(n.nspname, 3) <> 'pg_' AND n.nspname <> 'information_schema'
                     AND (pg_has_role(session_user, n.nspowner, 'MEMBER')
                          OR has_schema_privilege(session_user, n.oid, 'CREATE'))),
           EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE left(n.nspname, 3) <> 'pg_' AND n.nspname <> 'information_schema'
                     AND pg_has_role(session_user, c.relowner, 'MEMBER')),
           EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE left(n.nspname, 3) <> 'pg_' AND n.nspname <> 'information_schema'
                     AND c.relkind IN ('r', 'p')
                     AND (has_table_privilege(session_user, c.oid, 'TRUNCATE')
                          OR has_table_privilege(session_user, c.oid, 'TRIGGER')
                          OR has_table_privilege(session_user, c.oid, 'REFERENCES')))
    FROM pg_roles r, pg_database d
    WHERE r.rolname = session_user AND d.datname = current_database()
"""
_ROLE_PROBLEMS = (
    "is a superuser",
    "may create roles",
    "may create databases",
    "bypasses row-level security",
    "may start replication",
    "owns the database (or is a member of its owner)",
    "may create schemas in the database",
    "owns a schema or may create objects in one",
    "owns tables, sequences or views",
    "holds TRUNCATE, TRIGGER or REFERENCES on a table",
)


def database_role_problems(cursor) -> list[str]:
    """What is wrong with the role this connection logged in as, for the application."""
    cursor.execute(_ROLE_CHECK)
    row = cursor.fetchone()
    return [problem for problem, flag in zip(_ROLE_PROBLEMS, row, strict=True) if flag]


def refuse_privileged_role(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """At start-up: production stops when ``DATABASE_URL`` logs in with too much power.

    Development only warns (one role for everything is allowed there). The
    connection is closed afterwards (unless a transaction holds it), so no
    process forks with one open.
    """
    connection = connections[using]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT session_user")
            (login,) = cursor.fetchone()
            problems = database_role_problems(cursor)
    finally:
        if not connection.in_atomic_block:
            connection.close()
    if problems:
        message = (
            f"The application's database role {login!r} (DATABASE_URL) "
            + "; ".join(problems)
            + ". It must own nothing and be no superuser: migrations and provisioning use "
            "DATABASE_OWNER_URL (see deploy/README.md, 'Database roles')."
        )
        if settings.PRODUCTION:
            raise ImproperlyConfigured(message)
        logger.warning(message)
    return problems


def refuse_privileged_role_signal(**kwargs) -> None:
    """Celery's worker_init and beat_init (connected in core.apps).

    Celery logs an exception raised by a signal handler and carries on;
    SystemExit is what stops it."""
    try:
        refuse_privileged_role()
    except ImproperlyConfigured as exc:
        raise SystemExit(f"ImproperlyConfigured: {exc}") from exc
