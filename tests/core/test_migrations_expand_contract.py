"""Upgrades run migrations while the previous release still serves
(README, "Upgrades"): a migration only *expands* the schema, unless it says
it is a *contract* step — one that drops or renames a column or a table the
previous release may still read — with a line containing ``contract:`` and
why it is safe now. This lists every migration of SMS's own apps that drops
or renames without saying so."""

import inspect
import re
from pathlib import Path

from django.db import migrations
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parents[2]

CONTRACTING = (
    migrations.RemoveField,
    migrations.DeleteModel,
    migrations.RenameField,
    migrations.RenameModel,
    migrations.AlterModelTable,
)
SQL_CONTRACT = re.compile(r"\b(DROP\s+(COLUMN|TABLE)|RENAME\s+(COLUMN|TO))\b", re.IGNORECASE)


def database_operations(operations):
    """The operations that reach the database (a SeparateDatabaseAndState's
    state-only part changes nothing there)."""
    for operation in operations:
        if isinstance(operation, migrations.SeparateDatabaseAndState):
            yield from database_operations(operation.database_operations)
        else:
            yield operation


def contracts(migration) -> list[str]:
    found = []
    for operation in database_operations(migration.operations):
        if isinstance(operation, CONTRACTING):
            found.append(operation.describe())
        elif isinstance(operation, migrations.RunSQL):
            sql = operation.sql if isinstance(operation.sql, (list, tuple)) else [operation.sql]
            if any(SQL_CONTRACT.search(str(statement)) for statement in sql):
                found.append("RunSQL dropping or renaming")
    return found


def own_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for migration in loader.disk_migrations.values():
        path = Path(inspect.getfile(type(migration))).resolve()
        if ROOT in path.parents and ".venv" not in path.parts:
            yield migration, path


def test_every_drop_or_rename_is_a_declared_contract_migration():
    unmarked = []
    seen = 0
    for migration, path in own_migrations():
        seen += 1
        found = contracts(migration)
        if found and "contract:" not in path.read_text(encoding="utf-8"):
            unmarked.append(f"{path.relative_to(ROOT)}: {'; '.join(found)}")
    assert seen > 20  # the loader did find SMS's migrations
    assert not unmarked, (
        "these migrations drop or rename what the running release may read; split them "
        "(expand now, contract in the next release) or say `contract:` and why:\n"
        + "\n".join(unmarked)
    )


def test_the_check_sees_a_drop_and_ignores_state_only_changes():
    class Drop(migrations.Migration):
        operations = [migrations.RemoveField(model_name="item", name="old")]

    class StateOnly(migrations.Migration):
        operations = [
            migrations.SeparateDatabaseAndState(
                state_operations=[migrations.DeleteModel(name="Moved")], database_operations=[]
            )
        ]

    class Sql(migrations.Migration):
        operations = [migrations.RunSQL("ALTER TABLE stock_item DROP COLUMN old")]

    assert contracts(Drop("0001_x", "stock"))
    assert not contracts(StateOnly("0001_x", "stock"))
    assert contracts(Sql("0001_x", "stock"))
