"""New country schemas copied from a migrated template schema (wiring; public schema).

Running every migration for a new country takes seconds; copying a schema
that the same migrations produced takes a fraction of one. The template,
``country_template``, is an ordinary schema migrated with ``migrate_schemas``
like any country, but it has no Country row and no Domain: no host routes to
it, ``migrate_schemas``, Celery beat and the staff console never see it, and
nobody writes into it.

Why not django-tenants' own clone (``TENANT_BASE_SCHEMA``, ``CloneSchema``):
the pg-clone-schema function it ships recreates unique constraints with
``CREATE TABLE ... (LIKE ... INCLUDING ALL)``, so they come out under
PostgreSQL's default names instead of the ones in our migrations (a later
``RemoveConstraint`` would then fail on cloned countries only); it turns
integer identity sequences into bigint ones, drops the comments by which
django-pgtrigger recognises its triggers, and takes about a second per
country here. This module writes each object from PostgreSQL's own
definitions (``pg_get_constraintdef``, ``pg_get_indexdef``,
``pg_get_triggerdef``, ``pg_get_functiondef``), under the template's names,
and copies the rows the migrations inserted and the sequence positions.

It only copies the kinds of object our migrations create (tables, sequences,
indexes, constraints, triggers, functions, comments, grants). When the template
holds anything else, :func:`clone_unsupported` names it and country creation
runs the migrations instead (slow but exact); a test keeps that list empty.
"""

import datetime
import functools
import logging
import re
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django_tenants.utils import (
    get_public_schema_name,
    quote_schema_name,
    schema_exists,
)

logger = logging.getLogger(__name__)

TEMPLATE_SCHEMA = "country_template"
# Cloners hold it shared and whoever brings the template up to date holds it
# exclusively, each until its transaction ends: nobody copies a template while
# it is being migrated, and country creations don't wait for one another.
_LOCK_KEY = "hashtext('sms:country-template')"


def template_current() -> "SchemaCopy":
    """Bring the template up to date and hold it for copying until the transaction ends.

    The template is built on first use and migrated again whenever a migration
    exists that it hasn't applied, so a deployment only needs its usual
    ``migrate_schemas``. All of it happens on the caller's connection, in its
    transaction: a country creation that fails takes the template's upkeep back
    with it, and the next one does it again. The caller copies the template
    with ``.create(target)``, or migrates the new schema itself when
    ``.unsupported`` names something the copy would miss.
    """
    global _template_read
    _on_public_schema()
    if not _migrations_all_applied(TEMPLATE_SCHEMA):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
            # Someone else may have done it while we waited.
            if not schema_exists(TEMPLATE_SCHEMA):
                cursor.execute(f"CREATE SCHEMA {TEMPLATE_SCHEMA}")
                _migrate(TEMPLATE_SCHEMA)
            elif not _migrations_all_applied(TEMPLATE_SCHEMA):
                _migrate(TEMPLATE_SCHEMA)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_advisory_xact_lock_shared({_LOCK_KEY})")
    applied = _applied_migrations(TEMPLATE_SCHEMA)
    if not _migrations_all_applied(TEMPLATE_SCHEMA, applied):
        raise RuntimeError("The country template is behind this code's migrations.")
    # The template changes only through migrations: what was read of it holds
    # until its django_migrations rows change.
    state = (connection.settings_dict["NAME"], max(applied.values()), len(applied))
    if _template_read is None or _template_read[0] != state:
        _template_read = (state, schema_read(TEMPLATE_SCHEMA))
    template = _template_read[1]
    if template.unsupported:
        logger.warning(
            "The country template holds objects the copy doesn't reproduce (%s): "
            "new countries are migrated instead.",
            "; ".join(template.unsupported),
        )
    return template


_template_read: "tuple[tuple, SchemaCopy] | None" = None


def schema_migrate_new(schema_name: str) -> None:
    """Create and migrate ``schema_name`` the slow way (no template)."""
    _on_public_schema()
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA " + quote_schema_name(schema_name))
    _migrate(schema_name)


def _migrate(schema_name: str) -> None:
    from django.core.management import call_command

    # The standard executor migrates on this connection, inside the caller's
    # transaction (the multiprocessing one would commit on connections of its own).
    call_command(
        "migrate_schemas",
        tenant=True,
        schema_name=schema_name,
        executor="standard",
        interactive=False,
        verbosity=0,
    )
    connection.set_schema_to_public()


def _applied_migrations(schema_name: str) -> dict[tuple[str, str], int]:
    """{(app, name): id} of the migrations recorded in ``schema_name`` (empty: none)."""
    if _rows("SELECT to_regclass(%s)", [f"{schema_name}.django_migrations"])[0][0] is None:
        return {}
    return {
        (app, name): id_
        for app, name, id_ in _rows(
            f"SELECT app, name, id FROM {schema_name}.django_migrations"  # noqa: S608 - a name
        )
    }


@functools.cache
def _migrations_on_disk() -> frozenset[tuple[str, str]]:
    # Once per process: the code's migrations don't change while it runs.
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def _migrations_all_applied(schema_name: str, applied=None) -> bool:
    """Whether ``schema_name`` has recorded every migration of this code.

    ``migrate`` records each migration of every app, in every schema (the router
    only skips the operations), so this is the question it asks, in one query.
    """
    if applied is None:
        applied = _applied_migrations(schema_name)
    return _migrations_on_disk() <= applied.keys()


def _on_public_schema() -> None:
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError("Schemas are created from the public schema.")


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- what the cloner copies --------------------------------------------------

# Each query lists whatever in schema %(s)s the cloner would not reproduce; when
# all of them come back empty the copy is faithful.
_UNSUPPORTED = {
    "relations other than tables, indexes and sequences": """
        SELECT c.relname || ' (relkind ' || c.relkind::text || ')' FROM pg_class c
        WHERE c.relnamespace = %(s)s::regnamespace AND c.relkind NOT IN ('r', 'i', 'S')""",
    "tables with inheritance, row security, a tablespace or a replica identity": """
        SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = %(s)s::regnamespace
          AND (c.relhassubclass OR c.relispartition OR c.relrowsecurity
               OR c.relforcerowsecurity OR c.reltablespace <> 0
               OR (c.relkind = 'r' AND c.relreplident <> 'd')
               OR EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid))""",
    "objects owned by another role": """
        SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = %(s)s::regnamespace AND c.relowner <> current_user::regrole
        UNION ALL
        SELECT p.proname FROM pg_proc p
        WHERE p.pronamespace = %(s)s::regnamespace AND p.proowner <> current_user::regrole
        UNION ALL
        SELECT n.nspname FROM pg_namespace n
        WHERE n.oid = %(s)s::regnamespace AND n.nspowner <> current_user::regrole""",
    "columns with their own statistics, storage, compression or grants": """
        SELECT c.relname || '.' || a.attname FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid
        WHERE c.relnamespace = %(s)s::regnamespace AND c.relkind = 'r'
          AND a.attnum > 0 AND NOT a.attisdropped
          AND (a.attstattarget <> -1 OR a.attstorage <> t.typstorage
               OR a.attcompression <> '' OR a.attacl IS NOT NULL)""",
    "types other than tables' own": """
        SELECT t.typname FROM pg_type t
        WHERE t.typnamespace = %(s)s::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'r')
          AND NOT EXISTS (SELECT 1 FROM pg_type e JOIN pg_class c ON c.oid = e.typrelid
                          WHERE e.oid = t.typelem AND c.relkind = 'r')""",
    "functions other than plain ones, or naming the template": """
        SELECT p.proname FROM pg_proc p
        WHERE p.pronamespace = %(s)s::regnamespace
          AND (p.prokind <> 'f' OR strpos(p.prosrc, %(s)s) > 0
               OR strpos(coalesce(array_to_string(p.proconfig, ' '), ''), %(s)s) > 0)""",
    "grants not made by the owner, or owners without their own privileges": """
        SELECT name FROM (
            SELECT c.relname AS name, c.relowner AS owner, c.relacl AS acl,
                   CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END AS kind
            FROM pg_class c WHERE c.relnamespace = %(s)s::regnamespace AND c.relkind IN ('r', 'S')
            UNION ALL
            SELECT p.proname, p.proowner, p.proacl, 'f' FROM pg_proc p
            WHERE p.pronamespace = %(s)s::regnamespace
            UNION ALL
            SELECT n.nspname, n.nspowner, n.nspacl, 'n' FROM pg_namespace n
            WHERE n.oid = %(s)s::regnamespace
        ) o
        WHERE o.acl IS NOT NULL AND (
            EXISTS (SELECT 1 FROM aclexplode(o.acl) a WHERE a.grantor <> o.owner)
            OR EXISTS (
                SELECT 1 FROM aclexplode(acldefault(o.kind::"char", o.owner)) d
                WHERE d.grantee = o.owner AND NOT EXISTS (
                    SELECT 1 FROM aclexplode(o.acl) a
                    WHERE a.grantee = d.grantee AND a.privilege_type = d.privilege_type)))""",
    "comments on types": """
        SELECT t.typname FROM pg_description d JOIN pg_type t ON t.oid = d.objoid
        WHERE d.classoid = 'pg_type'::regclass AND t.typnamespace = %(s)s::regnamespace""",
    "other schema objects": """
        SELECT 'collation ' || collname FROM pg_collation
            WHERE collnamespace = %(s)s::regnamespace
        UNION ALL SELECT 'conversion ' || conname FROM pg_conversion
            WHERE connamespace = %(s)s::regnamespace
        UNION ALL SELECT 'operator ' || oprname FROM pg_operator
            WHERE oprnamespace = %(s)s::regnamespace
        UNION ALL SELECT 'operator class ' || opcname FROM pg_opclass
            WHERE opcnamespace = %(s)s::regnamespace
        UNION ALL SELECT 'operator family ' || opfname FROM pg_opfamily
            WHERE opfnamespace = %(s)s::regnamespace
        UNION ALL SELECT 'statistics ' || stxname FROM pg_statistic_ext
            WHERE stxnamespace = %(s)s::regnamespace
        UNION ALL SELECT 'text search configuration ' || cfgname FROM pg_ts_config
            WHERE cfgnamespace = %(s)s::regnamespace
        UNION ALL SELECT 'text search dictionary ' || dictname FROM pg_ts_dict
            WHERE dictnamespace = %(s)s::regnamespace
        UNION ALL SELECT 'extension ' || extname FROM pg_extension
            WHERE extnamespace = %(s)s::regnamespace
        UNION ALL SELECT 'default privileges' FROM pg_default_acl
            WHERE defaclnamespace = %(s)s::regnamespace
        UNION ALL SELECT 'policy ' || polname FROM pg_policy p
            JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = %(s)s::regnamespace
        UNION ALL SELECT 'rule ' || rulename FROM pg_rewrite r
            JOIN pg_class c ON c.oid = r.ev_class WHERE c.relnamespace = %(s)s::regnamespace
        UNION ALL SELECT 'clustered or replica identity index ' || c.relname FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            WHERE c.relnamespace = %(s)s::regnamespace AND (i.indisclustered OR i.indisreplident)
        UNION ALL SELECT 'sequence owned across schemas ' || c.relname FROM pg_depend d
            JOIN pg_class c ON c.oid = d.objid JOIN pg_class t ON t.oid = d.refobjid
            WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
              AND c.relkind = 'S' AND d.deptype IN ('a', 'i')
              AND (c.relnamespace = %(s)s::regnamespace) <> (t.relnamespace = %(s)s::regnamespace)
        UNION ALL SELECT 'trigger on another schema calling ' || p.proname FROM pg_trigger g
            JOIN pg_proc p ON p.oid = g.tgfoid JOIN pg_class c ON c.oid = g.tgrelid
            WHERE p.pronamespace = %(s)s::regnamespace
              AND c.relnamespace <> %(s)s::regnamespace""",
}


def clone_unsupported(schema_name: str) -> list[str]:
    """What in ``schema_name`` :func:`schema_clone` would not reproduce (empty: nothing)."""
    found = []
    for what, sql in _UNSUPPORTED.items():
        names = sorted({row[0] for row in _rows(sql, {"s": schema_name})})
        if names:
            found.append(f"{what}: {', '.join(names[:5])}")
    return found


_TABLES_SQL = """
    SELECT c.relname, c.relpersistence, c.reloptions FROM pg_class c
    WHERE c.relnamespace = %(s)s::regnamespace AND c.relkind = 'r' ORDER BY c.relname"""

_COLUMNS_SQL = """
    SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
           (SELECT quote_ident(n.nspname) || '.' || quote_ident(co.collname)
              FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
             WHERE co.oid = a.attcollation AND a.attcollation <> t.typcollation),
           a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
           q.relname, q.seqstart, q.seqincrement, q.seqmin, q.seqmax, q.seqcache, q.seqcycle
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN LATERAL (
        SELECT s.relname, p.* FROM pg_depend dep
        JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
        JOIN pg_sequence p ON p.seqrelid = s.oid
        WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
          AND dep.refobjid = c.oid AND dep.refobjsubid = a.attnum AND dep.deptype = 'i'
    ) q ON a.attidentity <> ''
    WHERE c.relnamespace = %(s)s::regnamespace AND c.relkind = 'r'
      AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY c.relname, a.attnum"""

# Sequences that number a column (identity or serial), ascending.
_COLUMN_SEQUENCES_SQL = """
    SELECT s.relname, t.relname, a.attname, p.seqstart FROM pg_depend d
    JOIN pg_class s ON s.oid = d.objid
    JOIN pg_sequence p ON p.seqrelid = s.oid
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.deptype IN ('a', 'i') AND s.relkind = 'S' AND p.seqincrement > 0
      AND s.relnamespace = %(s)s::regnamespace AND t.relnamespace = %(s)s::regnamespace
    ORDER BY s.relname"""

# Sequences of their own (serial columns, or none): identity ones come with their column.
_FREE_SEQUENCES_SQL = """
    SELECT s.relname, format_type(p.seqtypid, NULL), p.seqstart, p.seqincrement,
           p.seqmin, p.seqmax, p.seqcache, p.seqcycle
    FROM pg_class s JOIN pg_sequence p ON p.seqrelid = s.oid
    WHERE s.relnamespace = %(s)s::regnamespace AND s.relkind = 'S'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = s.oid AND d.deptype = 'i')
    ORDER BY s.relname"""

_OWNED_SEQUENCES_SQL = """
    SELECT s.relname, t.relname, a.attname FROM pg_depend d
    JOIN pg_class s ON s.oid = d.objid
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.deptype = 'a' AND s.relkind = 'S' AND s.relnamespace = %(s)s::regnamespace
    ORDER BY s.relname"""

_FUNCTIONS_SQL = """
    SELECT pg_get_functiondef(p.oid) FROM pg_proc p
    WHERE p.pronamespace = %(s)s::regnamespace AND p.prokind = 'f' ORDER BY p.proname, p.oid"""

# Keys first: a foreign key needs the unique index it points at.
_CONSTRAINTS_SQL = """
    SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
    WHERE k.connamespace = %(s)s::regnamespace AND k.contype IN ('p', 'u', 'x', 'c', 'f')
    ORDER BY CASE k.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'x' THEN 2 WHEN 'c' THEN 3
             ELSE 4 END, c.relname, k.conname"""

# Indexes that no constraint made (those come with their constraint).
_INDEXES_SQL = """
    SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    WHERE c.relnamespace = %(s)s::regnamespace
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                      AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
    ORDER BY c.relname"""

_TRIGGERS_SQL = """
    SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = %(s)s::regnamespace AND NOT t.tgisinternal
    ORDER BY c.relname, t.tgname"""

_COMMENTS_SQL = """
    SELECT CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'i' THEN 'INDEX' ELSE 'SEQUENCE' END,
           %(s)s || '.' || quote_ident(c.relname), d.description
    FROM pg_description d JOIN pg_class c ON c.oid = d.objoid
    WHERE d.classoid = 'pg_class'::regclass AND d.objsubid = 0
      AND c.relnamespace = %(s)s::regnamespace
    UNION ALL
    SELECT 'COLUMN', %(s)s || '.' || quote_ident(c.relname) || '.' || quote_ident(a.attname),
           d.description
    FROM pg_description d JOIN pg_class c ON c.oid = d.objoid
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
    WHERE d.classoid = 'pg_class'::regclass AND d.objsubid > 0
      AND c.relnamespace = %(s)s::regnamespace
    UNION ALL
    SELECT 'CONSTRAINT', quote_ident(k.conname) || ' ON ' || %(s)s || '.' || quote_ident(c.relname),
           d.description
    FROM pg_description d JOIN pg_constraint k ON k.oid = d.objoid
    JOIN pg_class c ON c.oid = k.conrelid
    WHERE d.classoid = 'pg_constraint'::regclass AND k.connamespace = %(s)s::regnamespace
    UNION ALL
    SELECT 'TRIGGER', quote_ident(t.tgname) || ' ON ' || %(s)s || '.' || quote_ident(c.relname),
           d.description
    FROM pg_description d JOIN pg_trigger t ON t.oid = d.objoid
    JOIN pg_class c ON c.oid = t.tgrelid
    WHERE d.classoid = 'pg_trigger'::regclass AND c.relnamespace = %(s)s::regnamespace
    UNION ALL
    SELECT 'FUNCTION', %(s)s || '.' || quote_ident(p.proname)
           || '(' || pg_get_function_identity_arguments(p.oid) || ')', d.description
    FROM pg_description d JOIN pg_proc p ON p.oid = d.objoid
    WHERE d.classoid = 'pg_proc'::regclass AND p.pronamespace = %(s)s::regnamespace
    UNION ALL
    SELECT 'SCHEMA', NULL, d.description FROM pg_description d
    WHERE d.classoid = 'pg_namespace'::regclass AND d.objoid = %(s)s::regnamespace"""

# Grants beyond the owner's own (clone_unsupported refuses the rest).
_ACLS_SQL = """
    SELECT o.kind, o.name, e.grantee, e.privilege_type, e.is_grantable FROM (
        SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
               %(s)s || '.' || quote_ident(c.relname) AS name, c.relowner AS owner,
               c.relacl AS acl
        FROM pg_class c WHERE c.relnamespace = %(s)s::regnamespace AND c.relkind IN ('r', 'S')
        UNION ALL
        SELECT 'FUNCTION', %(s)s || '.' || quote_ident(p.proname)
               || '(' || pg_get_function_identity_arguments(p.oid) || ')', p.proowner, p.proacl
        FROM pg_proc p WHERE p.pronamespace = %(s)s::regnamespace
        UNION ALL
        SELECT 'SCHEMA', NULL, n.nspowner, n.nspacl FROM pg_namespace n
        WHERE n.oid = %(s)s::regnamespace
    ) o
    LEFT JOIN LATERAL (
        SELECT CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee))
               END AS grantee, a.privilege_type, a.is_grantable
        FROM aclexplode(o.acl) a WHERE a.grantee <> o.owner
    ) e ON true
    WHERE o.acl IS NOT NULL
    ORDER BY 1, 2, 3, 4"""


# --- the copy ------------------------------------------------------------------

_CATALOG = {
    "free sequences": _FREE_SEQUENCES_SQL,
    "functions": _FUNCTIONS_SQL,
    "tables": _TABLES_SQL,
    "columns": _COLUMNS_SQL,
    "owned sequences": _OWNED_SEQUENCES_SQL,
    "column sequences": _COLUMN_SEQUENCES_SQL,
    "constraints": _CONSTRAINTS_SQL,
    "indexes": _INDEXES_SQL,
    "triggers": _TRIGGERS_SQL,
    "comments": _COMMENTS_SQL,
    "grants": _ACLS_SQL,
}


@dataclass(frozen=True)
class SchemaCopy:
    """What a copy of ``source`` needs to know about it, read from the catalogues once."""

    source: str
    catalog: dict[str, list[tuple]]
    unsupported: list[str]

    def create(self, target: str) -> None:
        """Create schema ``target`` as a copy of the source: the same tables, columns,
        sequences, rows, constraints, indexes, triggers, functions, comments and
        grants, under the same names.

        From the public schema, on this connection, atomically.
        """
        _on_public_schema()
        if self.unsupported:
            raise ValueError(f"{self.source} can't be copied: {'; '.join(self.unsupported)}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", target):
            # Written into the SQL unquoted.
            raise ValueError(f"unexpected schema name {target!r}")
        with transaction.atomic():
            statements = self._statements(target)
            (check_bodies,) = _rows("SELECT current_setting('check_function_bodies')")[0]
            with connection.cursor() as cursor:
                # As pg_dump does: a function body may use a table created after it.
                # One round trip; without parameters psycopg sends it as one simple query.
                cursor.execute(
                    ";\n".join(
                        [
                            "SET LOCAL check_function_bodies = off",
                            *statements,
                            f"SET LOCAL check_function_bodies = {check_bodies}",
                        ]
                    )
                )

    def _statements(self, target: str) -> list[str]:
        source, rows = self.source, self.catalog
        qualified = re.compile(rf'(?<![\w$."]){re.escape(source)}\.')

        def moved(definition: str) -> str:
            # PostgreSQL writes the names of objects outside the search path (the
            # source schema's, from the public schema) qualified: point them at target.
            return qualified.sub(f"{target}.", definition)

        statements = [f"CREATE SCHEMA {target}"]

        for name, type_, start, inc, min_, max_, cache, cycle in rows["free sequences"]:
            statements.append(
                f"CREATE SEQUENCE {target}.{_ident(name)} AS {type_}"
                + _sequence_options(start, inc, min_, max_, cache, cycle)
            )
        statements += [moved(definition) for (definition,) in rows["functions"]]

        tables = {table: (persistence, options) for table, persistence, options in rows["tables"]}
        columns: dict[str, list[str]] = {table: [] for table in tables}
        copied: dict[str, list[str]] = {table: [] for table in tables}
        for row in rows["columns"]:
            table, name, type_, collation, notnull, default, identity, generated, sequence = row[:9]
            parts = [_ident(name), type_]
            if collation:
                parts.append(f"COLLATE {collation}")
            if generated == "s":
                parts.append(f"GENERATED ALWAYS AS ({moved(default)}) STORED")
            elif default is not None:
                parts.append(f"DEFAULT {moved(default)}")
            if identity:
                parts.append(
                    f"GENERATED {'ALWAYS' if identity == 'a' else 'BY DEFAULT'} AS IDENTITY"
                    f" (SEQUENCE NAME {target}.{_ident(sequence)}{_sequence_options(*row[9:])})"
                )
            if notnull:
                parts.append("NOT NULL")
            columns[table].append(" ".join(parts))
            if generated != "s":
                copied[table].append(_ident(name))
        for table, (persistence, options) in tables.items():
            statements.append(
                f"CREATE {'UNLOGGED ' if persistence == 'u' else ''}TABLE {target}.{_ident(table)}"
                f" ({', '.join(columns[table])})"
                + (f" WITH ({', '.join(options)})" if options else "")
            )
        for sequence, table, column in rows["owned sequences"]:
            statements.append(
                f"ALTER SEQUENCE {target}.{_ident(sequence)}"
                f" OWNED BY {target}.{_ident(table)}.{_ident(column)}"
            )

        # The rows the migrations wrote, before any trigger or foreign key exists.
        for table, names in copied.items():
            if names:
                listed = ", ".join(names)
                statements.append(
                    # Catalog names, quoted.
                    f"INSERT INTO {target}.{_ident(table)} ({listed}) OVERRIDING SYSTEM VALUE"  # noqa: S608
                    f" SELECT {listed} FROM {source}.{_ident(table)}"
                )
        # Times the migrations would have written are the country's own creation time.
        for table, values in creation_times(tables).items():
            assignments = ", ".join(
                f"{_ident(column)} = {_literal(value)}" for column, value in values
            )
            statements.append(f"UPDATE {target}.{_ident(table)} SET {assignments}")  # noqa: S608
        # A column's sequence goes on from the copied rows, as after the migrations
        # themselves. The template's own may be further on: sequences don't roll
        # back with a failed country creation that migrated the template.
        continued = set()
        for sequence, table, column, start in rows["column sequences"]:
            continued.add(sequence)
            column = _ident(column)
            statements.append(
                f"SELECT pg_catalog.setval('{target}.{_ident(sequence)}',"  # noqa: S608
                f" coalesce(max({column}), {start}), max({column}) IS NOT NULL)"
                f" FROM {target}.{_ident(table)}"
            )
        for sequence, last_value, is_called in _sequence_positions(source, rows):
            if sequence not in continued:
                statements.append(
                    f"SELECT pg_catalog.setval('{target}.{_ident(sequence)}', {last_value}, {is_called})"
                )

        for table, name, definition in rows["constraints"]:
            statements.append(
                f"ALTER TABLE {target}.{_ident(table)} ADD CONSTRAINT {_ident(name)} "
                + moved(definition)
            )
        statements += [moved(definition) for (definition,) in rows["indexes"]]
        for table, name, definition, enabled in rows["triggers"]:
            statements.append(moved(definition))
            if enabled != "O":
                state = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}[enabled]
                statements.append(
                    f"ALTER TABLE {target}.{_ident(table)} {state} TRIGGER {_ident(name)}"
                )

        for kind, name, description in rows["comments"]:
            name = target if kind == "SCHEMA" else moved(name)
            statements.append(f"COMMENT ON {kind} {name} IS {_literal(description)}")
        revoked = set()
        for kind, name, grantee, privilege, grantable in rows["grants"]:
            name = target if kind == "SCHEMA" else moved(name)
            if (kind, name) not in revoked:
                # An explicit list replaces the defaults (e.g. functions' EXECUTE for PUBLIC).
                revoked.add((kind, name))
                statements.append(f"REVOKE ALL ON {kind} {name} FROM PUBLIC")
            if grantee:
                statements.append(
                    f"GRANT {privilege} ON {kind} {name} TO {grantee}"
                    + (" WITH GRANT OPTION" if grantable else "")
                )
        return statements


def schema_read(source: str) -> SchemaCopy:
    """Read what a copy of schema ``source`` needs (see :class:`SchemaCopy`)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", source):
        # Rewritten as a word in the definitions.
        raise ValueError(f"unexpected schema name {source!r}")
    return SchemaCopy(
        source=source,
        catalog={what: _rows(sql, {"s": source}) for what, sql in _CATALOG.items()},
        unsupported=clone_unsupported(source),
    )


def schema_clone(*, source: str, target: str) -> None:
    """Create schema ``target`` as a copy of schema ``source`` (see :class:`SchemaCopy`)."""
    schema_read(source).create(target)


def _sequence_options(start, increment, minimum, maximum, cache, cycle) -> str:
    return (
        f" INCREMENT BY {increment} MINVALUE {minimum} MAXVALUE {maximum}"
        f" START WITH {start} CACHE {cache} {'CYCLE' if cycle else 'NO CYCLE'}"
    )


def creation_times(tables) -> dict[str, list[tuple[str, str]]]:
    """{table: [(column, value now)]} for the columns of ``tables`` that Django fills
    with the time of writing (auto_now, auto_now_add, a default of now), and
    django_migrations.applied."""
    from django.apps import apps
    from django.db.migrations.recorder import MigrationRecorder

    now = timezone.now()
    values = {}
    for model in [*apps.get_models(include_auto_created=True), MigrationRecorder.Migration]:
        table = model._meta.db_table
        if table not in tables or table in values:
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.DateField):  # DateTimeField is one too
                continue
            if field.default in _NOW_DEFAULTS:
                value = field.default()
            elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                is_datetime = isinstance(field, models.DateTimeField)
                value = now if is_datetime else datetime.date.today()
            else:
                continue
            values.setdefault(table, []).append((field.column, value.isoformat()))
    return values


_NOW_DEFAULTS = {timezone.now, timezone.localdate, datetime.date.today, datetime.datetime.now}


def _sequence_positions(source: str, catalog: dict) -> list[tuple]:
    """Positions of the sequences that number no column, read at the time of the copy."""
    names = [row[0] for row in catalog["free sequences"]]
    if not names:
        return []
    return _rows(
        " UNION ALL ".join(
            f"SELECT %s, last_value, is_called FROM {source}.{_ident(name)}"  # noqa: S608 - quoted
            for name in names
        ),
        names,
    )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
