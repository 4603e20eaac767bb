"""The two database roles in the test suite (README, "Database roles").

The suite logs in as the owner role (``DATABASE_OWNER_URL``): pytest-django
creates the test database and migrates it, and the session's countries are
made, as the owner, as in production. Each test then runs as the
application role (``DATABASE_URL``'s): ``SET ROLE`` on the open connection,
Django's ``assume_role`` option on any connection opened during the test
(threads, the live server). So application code meets the privileges it has
in production, and a test that needs more says so:

- ``@pytest.mark.database_owner``: the whole test as the owner (what
  production runs as the owner: migrations, provisioning, creating a country);
- ``with database_owner():`` a block as the owner, e.g. someone with the
  owner's password tampering with a table, or a fixture removing the rows a
  transactional test committed.

With one role for everything (``DATABASE_OWNER_URL`` unset) nothing switches
and the role tests skip.

Django's flush after a transactional test truncates every table of the public
schema, the access log among them, whose trigger refuses TRUNCATE: that one
trigger is off in the *test* database's public schema for the session (the
flush runs as the owner). tests/core/test_triggers.py switches
it on again inside its own transaction to see it refuse.

The fixtures are imported into tests/conftest.py.
"""

import contextlib

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import get_public_schema_name

from core import dbroles

OWNER_MARK = "database_owner"


def application_role() -> str:
    return dbroles.application_role()


def roles_split() -> bool:
    return dbroles.roles_split()


def _become_application() -> None:
    role = application_role()
    connection.settings_dict["OPTIONS"]["assume_role"] = role
    if connection.connection is not None:
        with connection.cursor() as cursor:
            cursor.execute(connection.ops.compose_sql("SET ROLE %s", [role]))


def _become_owner() -> None:
    connection.settings_dict["OPTIONS"].pop("assume_role", None)
    if connection.connection is not None:
        try:
            # Straight on the connection: in a transaction a failed test broke, the
            # rollback that follows puts the login role back by itself.
            connection.connection.execute("RESET ROLE")
        except psycopg.Error:
            pass


@contextlib.contextmanager
def database_owner():
    """Run a block as the database owner, then go on as before."""
    was_application = "assume_role" in connection.settings_dict["OPTIONS"]
    _become_owner()
    try:
        yield
    finally:
        if was_application:
            _become_application()


@contextlib.contextmanager
def triggers_off(*tables: str):
    """What someone with the database owner's password can do: switch the
    tables' own triggers off (``DISABLE TRIGGER USER``: the owner may, the
    application may not) and write what the triggers would refuse. Inside the
    test's transaction, so its rollback puts them back anyway."""
    quote = connection.ops.quote_name
    with database_owner(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER USER")
        yield cursor
        for table in tables:
            cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER USER")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Log in as the owner: it creates, migrates and fills the test database."""
    owner = dbroles.owner_settings()
    if roles_split():
        default = settings.DATABASES["default"]
        for key in ("USER", "PASSWORD", "HOST", "PORT"):
            default[key] = owner.get(key)
        connection.close()


def _truncate_triggers_in_public():
    """(table, trigger) of every TRUNCATE-refusing trigger on a table of the public schema."""
    import pgtrigger

    from core.triggers import ProtectTruncate

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", [get_public_schema_name()]
        )
        public_tables = {name for (name,) in cursor.fetchall()}
    return [
        (model._meta.db_table, trigger.get_pgid(model))
        for model, trigger in pgtrigger.registered()
        if isinstance(trigger, ProtectTruncate) and model._meta.db_table in public_tables
    ]


def _public_truncate_triggers(enabled: bool) -> None:
    verb = "ENABLE" if enabled else "DISABLE"
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, trigger in _truncate_triggers_in_public():
            cursor.execute(f"ALTER TABLE public.{quote(table)} {verb} TRIGGER {quote(trigger)}")


_DB_FIXTURES = ("db", "transactional_db", "live_server", "django_db_reset_sequences")


def _uses_db(item) -> bool:
    return item.get_closest_marker("django_db") is not None or bool(
        set(getattr(item, "fixturenames", ())) & set(_DB_FIXTURES)
    )


@pytest.fixture(scope="session", autouse=True)
def _database_roles(request, django_db_blocker):
    """After the session's countries exist, before any test's transaction: the
    application's grants everywhere (once more: a --reuse-db database may
    predate them), and the flush made possible (see the docstring). A session
    fixture that every test gets, so that it never runs inside one test's
    transaction, which would roll it back; it does nothing when no test uses
    the database."""
    if not roles_split() or not any(_uses_db(item) for item in request.session.items):
        yield
        return
    request.getfixturevalue("django_db_setup")
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nspname FROM pg_namespace WHERE pg_has_role(current_user, nspowner, 'USAGE')"
                " AND left(nspname, 3) <> 'pg_' AND nspname <> 'information_schema'"
            )
            schemas = [name for (name,) in cursor.fetchall()]
        for schema in schemas:
            dbroles.grant_application_role(schema_name=schema)
        _public_truncate_triggers(enabled=False)
    yield
    with django_db_blocker.unblock():
        _become_owner()
        _public_truncate_triggers(enabled=True)


@pytest.fixture(autouse=True)
def _application_role(request):
    """Each test that uses the database runs as the application role (see the docstring)."""
    names = set(request.fixturenames)
    uses_db = request.node.get_closest_marker("django_db") is not None or names & set(_DB_FIXTURES)
    if not uses_db or request.node.get_closest_marker(OWNER_MARK) or not roles_split():
        yield
        return
    request.getfixturevalue("_database_roles")
    # The database fixtures first, so that their teardown (the rollback, or the
    # flush of a transactional test, which needs the owner) comes after ours.
    if names & {"transactional_db", "live_server"}:
        request.getfixturevalue("transactional_db")
    elif "db" in names:
        request.getfixturevalue("db")
    _become_application()
    yield
    _become_owner()
