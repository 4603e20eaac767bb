"""The database refuses what the application must never do (core.dbroles).

Connected as the application role itself (a login with DATABASE_URL's
credentials, not the suite's SET ROLE): it is no superuser and owns nothing,
so it can't switch triggers off, set session_replication_role, drop or
truncate a table; its privileges follow the models (no DELETE on a
never-delete table, no UPDATE on an append-only one), so django-pgtrigger's
``SET pgtrigger.ignore`` opens nothing either. Production refuses to start
as the owner; the owner's commands switch to the owner by themselves.
"""

import os
import subprocess
import sys
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from core import dbroles
from tests.core.test_triggers import protected_models
from tests.database_roles import roles_split

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not roles_split(),
        reason="one database role for everything (DATABASE_OWNER_URL unset): run ./sms test",
    ),
]


def _url(env_name: str) -> str:
    """DATABASE_URL or DATABASE_OWNER_URL, pointed at the test database."""
    cfg = dj_database_url.parse(os.environ[env_name])
    name = settings.DATABASES["default"]["NAME"]
    return f"postgres://{cfg['USER']}:{cfg['PASSWORD']}@{cfg['HOST']}:{cfg['PORT']}/{name}"


@pytest.fixture
def as_application():
    """A connection of its own, logged in as the application role."""
    with psycopg.connect(_url("DATABASE_URL"), autocommit=True) as conn:
        yield conn


def _refused(conn, statement: str, error=psycopg.errors.InsufficientPrivilege):
    with pytest.raises(error), conn.transaction():
        conn.execute(statement)


def _never_delete_tables() -> set[str]:
    return {t for t, ops in dbroles.refused_operations().items() if "DELETE" in ops}


def _append_only_tables() -> set[str]:
    return {t for t, ops in dbroles.refused_operations().items() if "UPDATE" in ops}


def test_the_application_role_is_no_superuser_and_owns_nothing(as_application):
    row = as_application.execute(
        "SELECT session_user, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication"
        " FROM pg_roles WHERE rolname = session_user"
    ).fetchone()
    assert row == (dbroles.application_role(), False, False, False, False, False)
    assert dbroles.database_role_problems(as_application.cursor()) == []
    # The suite's own login is the owner: everything the check looks for.
    with connection.cursor() as cursor:
        problems = dbroles.database_role_problems(cursor)
    assert "owns the database (or is a member of its owner)" in problems
    assert "owns tables, sequences or views" in problems


def _pgid(model, name: str) -> str:
    return next(t for t in model._meta.triggers if t.name == name).get_pgid(model)


def test_the_application_cannot_switch_the_triggers_off(as_application, country_a):
    from stock.models import StockItem

    schema = country_a.schema_name
    no_delete = _pgid(StockItem, "stockitem_no_delete")
    for statement in (
        f"ALTER TABLE {schema}.custody_ledgerentry DISABLE TRIGGER ALL",
        f"ALTER TABLE {schema}.custody_ledgerentry DISABLE TRIGGER USER",
        f"ALTER TABLE {schema}.stock_stockitem DISABLE TRIGGER {no_delete}",
        "ALTER TABLE public.audit_accessevent DISABLE TRIGGER USER",
        f"DROP TRIGGER {no_delete} ON {schema}.stock_stockitem",
        "SET session_replication_role = replica",
        f"DROP TABLE {schema}.custody_ledgerentry",
        f"DROP TABLE {schema}.stock_stockitem CASCADE",
        "DROP TABLE public.audit_accessevent",
        f"DROP SCHEMA {schema} CASCADE",
        f"ALTER TABLE {schema}.stock_stockitem OWNER TO {dbroles.application_role()}",
        "CREATE SCHEMA intruder",
        "CREATE TABLE public.intruder (id int)",
        f"CREATE TABLE {schema}.intruder (id int)",
        "ALTER FUNCTION public._pgtrigger_should_ignore(name) RENAME TO gone",
    ):
        _refused(as_application, statement)


def test_truncate_is_refused_to_the_application_on_every_protected_table(as_application, country_a):
    models = protected_models()
    assert models
    for model in models:
        table = model._meta.db_table
        _refused(as_application, f"TRUNCATE {country_a.schema_name}.{table} CASCADE")
    _refused(as_application, "TRUNCATE public.audit_accessevent")


def test_pgtrigger_ignore_opens_nothing_to_the_application(as_application, country_a):
    """Any role may set pgtrigger.ignore, the switch the triggers read; without
    the privilege there is nothing for it to switch."""
    as_application.execute(f"SET search_path TO {country_a.schema_name}")
    with as_application.transaction():
        as_application.execute(
            "SELECT set_config('pgtrigger.ignore', %s, true)",
            ["{pgtrigger_stockitem_no_delete,pgtrigger_ledgerentry_no_update}"],
        )
        for statement in (
            "DELETE FROM stock_stockitem",
            "DELETE FROM custody_transfer",
            "UPDATE custody_ledgerentry SET actor_name = 'nobody'",
            "UPDATE stock_itemchange SET reason = 'nothing'",
            "UPDATE public.audit_accessevent SET username = 'nobody'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), as_application.transaction():
                as_application.execute(statement)


def test_the_application_cannot_move_the_ledger_head_back(as_application, country_a):
    """The head names the chain's last entry, by sequence and hash: the
    application's login (which UPDATEs the head on every append) can't move it
    back to cut the chain's end off, nor point it at an entry that isn't there,
    nor delete or truncate it (ledger.models.HeadFollowsTheChain)."""
    as_application.execute(f"SET search_path TO {country_a.schema_name}")
    with as_application.transaction() as tx:
        head = as_application.execute(
            "SELECT last_sequence, last_hash FROM custody_ledgerhead WHERE id = 1"
        ).fetchone()
        first = head[0] + 1
        for sequence, digest in ((first, "a" * 64), (first + 1, "b" * 64)):
            as_application.execute(
                "INSERT INTO custody_ledgerentry (sequence, event, occurred_at, actor_name,"
                " payload, prev_hash, hash, signature)"
                " VALUES (%s, 'registered', now(), 'x', '{}', '', %s, '')",
                [sequence, digest],
            )
        # Forward to the last entry, as an append does: allowed.
        as_application.execute(
            "UPDATE custody_ledgerhead SET last_sequence = %s, last_hash = %s WHERE id = 1",
            [first + 1, "b" * 64],
        )
        refused = psycopg.errors.IntegrityConstraintViolation
        for statement, params in (
            # Back one entry (its real hash): the tail would be cut off.
            ("UPDATE custody_ledgerhead SET last_sequence = %s, last_hash = %s", [first, "a" * 64]),
            # Back to the genesis.
            ("UPDATE custody_ledgerhead SET last_sequence = 0, last_hash = %s", ["0" * 64]),
            # The right sequence with another hash, and an entry that isn't there.
            ("UPDATE custody_ledgerhead SET last_hash = %s", ["c" * 64]),
            ("UPDATE custody_ledgerhead SET last_sequence = %s", [first + 5]),
        ):
            with pytest.raises(refused), as_application.transaction():
                as_application.execute(statement, params)
        for statement in ("DELETE FROM custody_ledgerhead", "TRUNCATE custody_ledgerhead"):
            with pytest.raises(psycopg.Error), as_application.transaction():
                as_application.execute(statement)
        assert as_application.execute(
            "SELECT last_sequence FROM custody_ledgerhead WHERE id = 1"
        ).fetchone() == (first + 1,)
        raise psycopg.Rollback(tx)


def test_the_application_does_what_it_needs(as_application, country_a):
    """Not a role that can do nothing: reads, writes, and deletes where allowed."""
    as_application.execute(f"SET search_path TO {country_a.schema_name}")
    with as_application.transaction() as tx:
        assert as_application.execute("SELECT count(*) FROM stock_site").fetchone()
        as_application.execute("UPDATE stock_site SET name = name")
        as_application.execute("UPDATE stock_stockitem SET notes = notes WHERE false")
        as_application.execute("DELETE FROM django_session WHERE false")
        as_application.execute("SELECT nextval(pg_get_serial_sequence('stock_site', 'id'))")
        raise psycopg.Rollback(tx)


def test_the_grants_follow_the_models_in_every_schema(country_a, country_b):
    never_delete, append_only = _never_delete_tables(), _append_only_tables()
    role = dbroles.application_role()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname, c.relname,"
            " has_table_privilege(%(role)s, c.oid, 'SELECT'),"
            " has_table_privilege(%(role)s, c.oid, 'INSERT'),"
            " has_table_privilege(%(role)s, c.oid, 'UPDATE'),"
            " has_table_privilege(%(role)s, c.oid, 'DELETE'),"
            " has_table_privilege(%(role)s, c.oid, 'TRUNCATE, REFERENCES, TRIGGER')"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = ANY(%(schemas)s) AND c.relkind = 'r'",
            {"role": role, "schemas": ["public", country_a.schema_name, country_b.schema_name]},
        )
        rows = cursor.fetchall()
    assert {schema for schema, *_ in rows} == {"public", "xa", "xb"}
    for schema, table, select, insert, update, delete, other in rows:
        where = f"{schema}.{table}"
        assert select, where
        assert not other, where
        if table == "django_migrations":
            assert not (insert or update or delete), where
            continue
        assert insert, where
        assert update == (table not in append_only), where
        assert delete == (table not in never_delete), where


@pytest.mark.database_owner
def test_a_schema_that_is_no_country_gives_the_application_nothing(country_a):
    """The template new countries are copied from, or any other schema of the
    owner's: rows written there would reach every new country."""
    role = dbroles.application_role()
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA not_a_country")
        cursor.execute("CREATE TABLE not_a_country.stock_site (id int)")
        cursor.execute(f"GRANT USAGE ON SCHEMA not_a_country TO {role}")
        cursor.execute(f"GRANT SELECT, INSERT ON not_a_country.stock_site TO {role}")
    assert dbroles.grant_application_role(schema_name="not_a_country") == 2
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_schema_privilege(%(role)s, 'not_a_country', 'USAGE'),"
            " has_table_privilege(%(role)s, 'not_a_country.stock_site', 'SELECT, INSERT')",
            {"role": role},
        )
        assert cursor.fetchone() == (False, False)
    # Told it is a country's (a schema migrated before its Country row exists).
    assert dbroles.grant_application_role(schema_name="not_a_country", served=True) == 2
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_schema_privilege(%(role)s, 'not_a_country', 'USAGE'),"
            " has_table_privilege(%(role)s, 'not_a_country.stock_site', 'DELETE')",
            {"role": role},
        )
        assert cursor.fetchone() == (True, True)
    # Repeating it changes nothing.
    assert dbroles.grant_application_role(schema_name=country_a.schema_name) == 0


@pytest.mark.database_owner
def test_a_new_country_gets_the_grants_as_it_is_created():
    from tenants.services import country_create

    country_create(
        code="YG", name="Grantland", languages=["en"], default_language="en", time_zone="UTC"
    )
    role = dbroles.application_role()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_schema_privilege(%(role)s, 'yg', 'USAGE'),"
            " has_table_privilege(%(role)s, 'yg.stock_stockitem', 'SELECT, INSERT, UPDATE'),"
            " has_table_privilege(%(role)s, 'yg.stock_stockitem', 'DELETE, TRUNCATE'),"
            " has_table_privilege(%(role)s, 'yg.custody_ledgerentry', 'UPDATE'),"
            " has_table_privilege(%(role)s, 'yg.stock_site', 'DELETE')",
            {"role": role},
        )
        assert cursor.fetchone() == (True, True, False, False, True)


def test_production_refuses_to_start_as_the_owner(settings):
    """The suite logs in as the owner, as a misconfigured deployment would."""
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured, match="owns the database"):
        dbroles.refuse_privileged_role()
    # Celery's worker_init / beat_init: Celery only logs an exception, SystemExit stops it.
    with pytest.raises(SystemExit, match="owns the database"):
        dbroles.refuse_privileged_role_signal(sender=None)
    settings.PRODUCTION = False
    assert "owns the database (or is a member of its owner)" in dbroles.refuse_privileged_role()


def _run(args: list[str], **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_OWNER_URL")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def production(tmp_path) -> dict:
    """The environment of a production process, but for the database."""
    env = {
        "SMS_ENV": "production",
        "DJANGO_SECRET_KEY": "test-only-" + "x" * 60,
        "SMS_BASE_DOMAIN": "sms.example.org",
        # Production refuses to start without a shared cache.
        "REDIS_URL": "redis://127.0.0.1:6379/15",
    }
    if hasattr(settings, "SMS_LEDGER_SIGNING_KEY_FILE"):
        # Production also refuses to start without the ledger's signing key.
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = tmp_path / "ledger-signing-key.pem"
        key.write_bytes(
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        env["SMS_LEDGER_SIGNING_KEY_FILE"] = str(key)
    return env


def test_the_wsgi_application_starts_only_as_the_application_role(django_db_setup, production):
    wsgi = ["-c", "import sms_platform.wsgi"]
    as_app = _run(wsgi, DATABASE_URL=_url("DATABASE_URL"), **production)
    assert as_app.returncode == 0, as_app.stderr
    as_owner = _run(wsgi, DATABASE_URL=_url("DATABASE_OWNER_URL"), **production)
    assert as_owner.returncode != 0
    assert "ImproperlyConfigured" in as_owner.stderr
    assert "owns the database" in as_owner.stderr


def test_owner_commands_log_in_as_the_owner_by_themselves(django_db_setup, production):
    """rebuild_report_totals empties tables with TRUNCATE, which only the owner may."""
    command = ["manage.py", "rebuild_report_totals", "--country", "XA"]
    ok = _run(
        command, DATABASE_URL=_url("DATABASE_URL"), DATABASE_OWNER_URL=_url("DATABASE_OWNER_URL")
    )
    assert ok.returncode == 0, ok.stderr
    # Without the owner's address, development goes on as the application and is refused;
    # production stops first and says what is missing.
    alone = _run(command, DATABASE_URL=_url("DATABASE_URL"))
    assert alone.returncode != 0 and "permission denied" in alone.stderr
    stopped = _run(command, DATABASE_URL=_url("DATABASE_URL"), **production)
    assert stopped.returncode != 0 and "DATABASE_OWNER_URL" in stopped.stderr
