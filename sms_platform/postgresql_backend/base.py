"""django-tenants' PostgreSQL backend, with pgtrigger's installs queued.

Django documents subclassing a built-in backend and naming the subclass in
``DATABASES["default"]["ENGINE"]``; this one changes only the schema editor.

Every trigger django-pgtrigger installs (re-)creates one function shared by
all schemas, ``public._pgtrigger_should_ignore``, with CREATE OR REPLACE; two
processes of ``migrate_schemas --executor=multiprocessing`` doing it at once
fail with "tuple concurrently updated" (bench/migrate_schemas.py reproduced it
with 50 countries). A statement that replaces a function in the shared schema
therefore first takes one advisory lock, held until its transaction commits;
nothing else waits, so the rest of each country's migration stays parallel.
tests/sms_platform/test_postgresql_backend.py checks that pgtrigger's install
SQL is still recognised.

pgtrigger's shared function also lets any session switch a trigger off with
``SET pgtrigger.ignore = '{name}'``: a never-delete table would then accept a
DELETE from the application's own connection. Right after each install (in
the same locked transaction, so no committed state has the permissive one)
the function is replaced by one that honours the setting only for members of
the role that owns it, the owner role migrations run as; the application
role, which owns nothing (README, "Database roles"), can no longer use it.
``install_ignore_guard`` does the same for a database migrated before, from
post_migrate.
"""

import re

from django.db import transaction
from django_tenants.postgresql_backend import base as tenants_base

# CREATE OR REPLACE FUNCTION "public".name(...) / public.name(...)
SHARED_FUNCTION = re.compile(r'CREATE\s+OR\s+REPLACE\s+FUNCTION\s+"?public"?\s*\.', re.IGNORECASE)
LOCK_NAME = "sms:pgtrigger-install"
IGNORE_FUNCTION = "_pgtrigger_should_ignore("

# pgtrigger's function, same name and signature, with one rule added first.
IGNORE_GUARD_SQL = """
CREATE OR REPLACE FUNCTION "public"._pgtrigger_should_ignore(trigger_name NAME)
RETURNS BOOLEAN AS $$
    DECLARE
        _pgtrigger_ignore TEXT[];
    BEGIN
        -- Only the owner role (or its members) may switch a trigger off.
        IF NOT pg_has_role(
            current_user,
            (SELECT proowner FROM pg_proc
             WHERE oid = '"public"._pgtrigger_should_ignore(name)'::regprocedure),
            'MEMBER'
        ) THEN
            RETURN FALSE;
        END IF;
        BEGIN
            SELECT INTO _pgtrigger_ignore CURRENT_SETTING('pgtrigger.ignore');
            EXCEPTION WHEN OTHERS THEN
        END;
        IF _pgtrigger_ignore IS NOT NULL THEN
            RETURN trigger_name = ANY(_pgtrigger_ignore);
        END IF;
        RETURN FALSE;
    END;
$$ LANGUAGE plpgsql;
"""


def replaces_shared_function(sql) -> bool:
    return isinstance(sql, str) and SHARED_FUNCTION.search(sql) is not None


class DatabaseSchemaEditor(tenants_base.DatabaseWrapper.SchemaEditorClass):
    def execute(self, sql, params=()):
        if self.collect_sql or not replaces_shared_function(sql):
            return super().execute(sql, params)
        with transaction.atomic(using=self.connection.alias):
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LOCK_NAME])
            result = super().execute(sql, params)
            if IGNORE_FUNCTION in sql:
                with self.connection.cursor() as cursor:
                    cursor.execute(IGNORE_GUARD_SQL)
            return result


def install_ignore_guard(connection) -> None:
    """Put the guarded function in place (a database migrated before it existed)."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LOCK_NAME])
        cursor.execute(
            "SELECT 1 FROM pg_proc WHERE oid = "
            "to_regprocedure('\"public\"._pgtrigger_should_ignore(name)')"
        )
        if cursor.fetchone():
            cursor.execute(IGNORE_GUARD_SQL)


class DatabaseWrapper(tenants_base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
