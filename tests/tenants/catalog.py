"""A schema as PostgreSQL's catalogues describe it, with its schema name taken out,
so that two schemas can be compared object by object."""

import re

from django.db import connection


def _rows(sql: str, schema: str, **params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"s": schema, **params})
        return cursor.fetchall()


QUERIES = {
    "schema": """
        SELECT pg_get_userbyid(nspowner), nspacl::text FROM pg_namespace
        WHERE oid = %(s)s::regnamespace""",
    "relations": """
        SELECT relname, relkind, relpersistence, reloptions::text, pg_get_userbyid(relowner),
               relacl::text, relrowsecurity, relreplident
        FROM pg_class WHERE relnamespace = %(s)s::regnamespace""",
    # Positions counted without dropped columns: a migration that removed a field
    # leaves a hole in a migrated table that a copy has no reason to keep.
    "columns": """
        SELECT table_name, position, column_name, data_type, character_maximum_length,
               numeric_precision, numeric_scale, datetime_precision, udt_name, is_nullable,
               column_default, is_identity, identity_generation, identity_start,
               identity_increment, identity_maximum, identity_minimum, identity_cycle,
               is_generated, generation_expression, collation_name
        FROM (SELECT *, row_number() OVER (PARTITION BY table_name ORDER BY ordinal_position)
              AS position FROM information_schema.columns WHERE table_schema = %(s)s) c""",
    "column details": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               a.attstattarget, a.attstorage, a.attcompression, a.attacl::text, a.attcollation
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relnamespace = %(s)s::regnamespace AND a.attnum > 0 AND NOT a.attisdropped""",
    "constraints": """
        SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), k.condeferrable,
               k.condeferred, k.convalidated
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        WHERE k.connamespace = %(s)s::regnamespace""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %(s)s""",
    "index details": """
        SELECT c.relname, i.indisunique, i.indisprimary, i.indisexclusion, i.indimmediate,
               i.indisclustered, i.indisvalid, i.indisreplident
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relnamespace = %(s)s::regnamespace""",
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled, t.tgdeferrable,
               t.tginitdeferred, p.proname, pn.nspname = %(s)s
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
        WHERE c.relnamespace = %(s)s::regnamespace AND NOT t.tgisinternal""",
    "functions": """
        SELECT proname, pg_get_functiondef(oid), pg_get_userbyid(proowner), proacl::text
        FROM pg_proc WHERE pronamespace = %(s)s::regnamespace""",
    "sequences": """
        SELECT sequencename, data_type::text, start_value, min_value, max_value, increment_by,
               cycle, cache_size, last_value, pg_get_userbyid(s.relowner)
        FROM pg_sequences q JOIN pg_class s ON s.relname = q.sequencename
             AND s.relnamespace = %(s)s::regnamespace
        WHERE q.schemaname = %(s)s""",
    "sequence owners": """
        SELECT s.relname, t.relname, a.attname, d.deptype FROM pg_depend d
        JOIN pg_class s ON s.oid = d.objid JOIN pg_class t ON t.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
          AND s.relkind = 'S' AND s.relnamespace = %(s)s::regnamespace""",
    "comments": """
        SELECT d.classoid::regclass::text, d.objsubid, d.description,
               coalesce(c.relname, t.tgname, k.conname, p.proname)
        FROM pg_description d
        LEFT JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid
             AND c.relnamespace = %(s)s::regnamespace
        LEFT JOIN pg_trigger t ON d.classoid = 'pg_trigger'::regclass AND t.oid = d.objoid
             AND t.tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = %(s)s::regnamespace)
        LEFT JOIN pg_constraint k ON d.classoid = 'pg_constraint'::regclass AND k.oid = d.objoid
             AND k.connamespace = %(s)s::regnamespace
        LEFT JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND p.oid = d.objoid
             AND p.pronamespace = %(s)s::regnamespace
        WHERE coalesce(c.oid, t.oid, k.oid, p.oid) IS NOT NULL
           OR (d.classoid = 'pg_namespace'::regclass AND d.objoid = %(s)s::regnamespace)""",
    "types": """
        SELECT typname, typtype FROM pg_type WHERE typnamespace = %(s)s::regnamespace""",
}


def catalog(schema: str, *, skip=frozenset()) -> dict[str, set]:
    """Every object of ``schema`` as comparable rows (names of the schema replaced by ``S``);
    the rows of each table without the ``skip`` (table, column) pairs."""
    qualified = re.compile(rf"\b{re.escape(schema)}\b")
    snapshot = {}
    for what, sql in QUERIES.items():
        snapshot[what] = {
            tuple(qualified.sub("S", v) if isinstance(v, str) else v for v in row)
            for row in _rows(sql, schema)
        }
    snapshot["rows"] = table_rows(schema, skip=skip)
    return snapshot


def table_rows(schema: str, *, skip=frozenset()) -> set[tuple]:
    """Each table's rows, as a count and a digest of their values."""
    digests = set()
    for (table,) in _rows(
        "SELECT relname FROM pg_class WHERE relnamespace = %(s)s::regnamespace"
        " AND relkind = 'r' ORDER BY relname",
        schema,
    ):
        columns = [
            name
            for (name,) in _rows(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = %(s)s AND table_name = %(t)s ORDER BY ordinal_position",
                schema,
                t=table,
            )
            if (table, name) not in skip
        ]
        listed = ", ".join(f'"{name}"' for name in columns)
        with connection.cursor() as cursor:
            cursor.execute(  # catalog names, quoted
                f"SELECT count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), ''))"  # noqa: S608
                f' FROM (SELECT {listed} FROM "{schema}"."{table}") r'
            )
            count, digest = cursor.fetchone()
        digests.add((table, count, digest))
    return digests


def differences(first: str, second: str, *, skip=frozenset()) -> dict[str, tuple[list, list]]:
    """What differs between two schemas: {aspect: (only in first, only in second)}."""
    a, b = catalog(first, skip=skip), catalog(second, skip=skip)
    return {
        what: (sorted(a[what] - b[what], key=repr), sorted(b[what] - a[what], key=repr))
        for what in a
        if a[what] != b[what]
    }
