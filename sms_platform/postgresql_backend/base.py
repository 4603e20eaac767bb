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
"""

import re

from django.db import transaction
from django_tenants.postgresql_backend import base as tenants_base

# CREATE OR REPLACE FUNCTION "public".name(...) / public.name(...)
SHARED_FUNCTION = re.compile(r'CREATE\s+OR\s+REPLACE\s+FUNCTION\s+"?public"?\s*\.', re.IGNORECASE)
LOCK_NAME = "sms:pgtrigger-install"


def replaces_shared_function(sql) -> bool:
    return isinstance(sql, str) and SHARED_FUNCTION.search(sql) is not None


class DatabaseSchemaEditor(tenants_base.DatabaseWrapper.SchemaEditorClass):
    def execute(self, sql, params=()):
        if self.collect_sql or not replaces_shared_function(sql):
            return super().execute(sql, params)
        with transaction.atomic(using=self.connection.alias):
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LOCK_NAME])
            return super().execute(sql, params)


class DatabaseWrapper(tenants_base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
