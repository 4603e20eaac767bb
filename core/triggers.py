"""Database triggers shared by the never-delete and append-only tables.

``pgtrigger.Protect`` refuses DELETE and UPDATE row by row, but TRUNCATE
fires no row trigger: it empties a table without a single DELETE. PostgreSQL
only runs statement-level triggers on TRUNCATE, which ``Protect`` does not
build (its statement level needs transition tables, which TRUNCATE has not),
so this is a plain ``pgtrigger.Trigger`` that raises before the statement.

Every model whose triggers protect DELETE or UPDATE carries one
(tests/core/test_triggers.py lists them from the models).
"""

import pgtrigger


class ProtectTruncate(pgtrigger.Trigger):
    """Refuse ``TRUNCATE`` of the table (before it empties anything)."""

    when = pgtrigger.Before
    operation = pgtrigger.Truncate
    level = pgtrigger.Statement
    func = "RAISE EXCEPTION 'pgtrigger: Cannot truncate the % table', TG_TABLE_NAME;"


def no_truncate(name: str) -> ProtectTruncate:
    return ProtectTruncate(name=name)
