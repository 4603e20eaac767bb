"""The database backend and the migrate commands: what django-tenants and
django-pgtrigger need from each other, through their public extension points
(no private function patched)."""

import pgtrigger
import pytest
from django.core.checks.commands import migrate_and_makemigrations_autodetector
from django.core.management import get_commands, load_command_class
from django.db import connection
from pgtrigger.migrations import DatabaseSchemaEditorMixin

from sms_platform.postgresql_backend.base import (
    LOCK_NAME,
    DatabaseSchemaEditor,
    replaces_shared_function,
)


def test_every_trigger_install_is_recognised_as_replacing_the_shared_function():
    # pgtrigger puts one function shared by every schema into "public" with
    # each trigger; if an upgrade moves or renames it, the lock no longer
    # queues the installs and parallel migrations fail again.
    triggers = pgtrigger.registered()
    assert triggers, "no never-delete trigger is registered"
    for model, trigger in triggers:
        sql = trigger.compile(model).install_sql
        assert replaces_shared_function(sql), (
            f"sms_platform.postgresql_backend: pgtrigger's install SQL of {trigger.name} "
            "no longer replaces a function in the public schema; check SHARED_FUNCTION"
        )


def test_other_statements_take_no_lock():
    assert not replaces_shared_function('CREATE OR REPLACE FUNCTION "xa".f() RETURNS int')
    assert not replaces_shared_function("CREATE TABLE public_things (id int)")


def test_pgtriggers_schema_editor_is_built_on_ours():
    editor = connection.SchemaEditorClass
    assert issubclass(editor, DatabaseSchemaEditor)
    assert issubclass(editor, DatabaseSchemaEditorMixin)


@pytest.mark.django_db
@pytest.mark.database_owner  # migrations' work: the application's role creates no function
def test_replacing_a_shared_function_holds_the_advisory_lock_until_commit():
    with connection.schema_editor() as editor:
        editor.execute(
            'CREATE OR REPLACE FUNCTION "public".sms_test_lock() RETURNS int '
            "AS $$ SELECT 1 $$ LANGUAGE sql",
            params=None,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid() AND granted "
                "AND objid = (hashtext(%s)::bigint & 4294967295)::oid",
                [LOCK_NAME],
            )
            assert cursor.fetchone()[0] == 1


def test_migrate_and_migrate_schemas_share_makemigrations_autodetector():
    commands = get_commands()
    assert commands["migrate"] == commands["migrate_schemas"] == "sms_platform"
    makemigrations = load_command_class(commands["makemigrations"], "makemigrations")
    for name in ("migrate", "migrate_schemas"):
        command = load_command_class(commands[name], name)
        assert command.autodetector is makemigrations.autodetector
        # Still django-tenants' command underneath.
        assert type(command).__mro__[1].__module__.startswith("django_tenants.")
    # pgtrigger's autodetector (it migrates triggers), and Django's check agrees.
    assert "MigrationAutodetectorMixin" in {
        base.__name__ for base in makemigrations.autodetector.__mro__
    }
    assert migrate_and_makemigrations_autodetector() == []
