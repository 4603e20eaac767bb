"""Writing many rows of one model at once with PostgreSQL's COPY.

``bulk_create`` compiles one INSERT whose every value goes through Django's
SQL compiler and psycopg's client-side quoting: for a chunk of a large
import, most of the write's CPU. ``copy_create`` sends the same rows with
COPY: each value prepared by its field exactly as ``bulk_create`` prepares it
(``pre_save`` then ``get_db_prep_save``: auto_now_add times, JSON, UUIDs),
then streamed. The database sees the same rows: its constraints, defaults
and row triggers apply to COPY as to INSERT. Like ``bulk_create``, no
``save()`` and no signals.

An auto-increment primary key left empty is drawn from its sequence first
(one statement for all the rows), so every object has its key afterwards, as
after ``bulk_create``. Database errors come out as Django's (IntegrityError…).
"""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.fields import AutoFieldMixin


def copy_create(objs: list) -> None:
    """Insert ``objs`` (instances of one model) with one COPY, in the
    caller's transaction and schema."""
    if not objs:
        return
    # The connection itself, not django.db.connection's per-access proxy:
    # it is passed to every value's preparation.
    connection = connections[DEFAULT_DB_ALIAS]
    model = type(objs[0])
    pk = model._meta.pk
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.wrap_database_errors, connection.cursor() as cursor:
        # connection.cursor() sets the tenant's search_path.
        missing = [obj for obj in objs if getattr(obj, pk.attname) is None]
        if missing and isinstance(pk, AutoFieldMixin):
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk.column, len(missing)],
            )
            for obj, (value,) in zip(missing, cursor.fetchall(), strict=True):
                setattr(obj, pk.attname, value)
        fields = [f for f in model._meta.concrete_fields if not getattr(f, "generated", False)]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row(
                    [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
                )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
