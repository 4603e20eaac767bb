"""Benchmark of the items-against-the-ledger check (stock.ledger_check) at scale.

    .venv/bin/python bench/item_ledger_check.py --items 1000000 \\
        --url postgres://postgres@127.0.0.1:5432/sms_trust_bench

What it does, in a database of its own (created if missing, never the one you
work in): in a schema ``bench_ledger_check`` it makes the four tables the
statement reads (custody_ledgerentry, stock_stockitem, stock_itemtype,
stock_site) with the columns the statement reads, their real types, the
ledger's (item, sequence) index and the items' primary key; loads --items
items over 50 sites and 6 types, one ``registered`` entry each with the
payload the service writes, and --moves of them dispatched and received
elsewhere and --corrections corrected (weight) — each a ledger entry and the
item's row updated to match; then tampers with --tampered items (weight,
by UPDATE, no entry) and runs the real statement (stock.ledger_check's
``_statement()``) --runs times, printing the wall time, this process's CPU
time and the load average, and checks it found exactly the tampered items.

The other columns of the real tables (signatures, hashes, the items' forty
fields) are left out: the statement does not read them, but they make the
real rows wider, so the real scan reads more pages — see the README's figure.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sms_platform.settings")

SCHEMA = "bench_ledger_check"

TABLES = f"""
DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;
CREATE SCHEMA {SCHEMA};
SET search_path TO {SCHEMA};
CREATE TABLE stock_site (id serial PRIMARY KEY, code varchar(32) UNIQUE);
CREATE TABLE stock_itemtype (id serial PRIMARY KEY, code varchar(32) UNIQUE);
CREATE TABLE stock_stockitem (
  id uuid PRIMARY KEY, sms_number varchar(32) UNIQUE, item_type_id int, site_id int,
  status varchar(16), weight_kg numeric(10,3), pieces int, cites_mark varchar(64) UNIQUE,
  notes text);
CREATE TABLE custody_ledgerentry (
  id bigserial PRIMARY KEY, sequence bigint UNIQUE, event varchar(32),
  occurred_at timestamptz DEFAULT now(), site_id int, item_id uuid, payload jsonb,
  hash varchar(64) DEFAULT repeat('a', 64), signature varchar(88) DEFAULT repeat('b', 88));
CREATE INDEX custody_ledger_item_seq ON custody_ledgerentry (item_id, sequence);
INSERT INTO stock_site (code) SELECT 'site-' || n FROM generate_series(1, 50) n;
INSERT INTO stock_itemtype (code) SELECT 'type-' || n FROM generate_series(1, 6) n;
"""  # noqa: S608 - our own fixed SQL


def load(cursor, *, items: int, moves: int, corrections: int) -> None:
    cursor.execute(TABLES)
    cursor.execute(
        """
        INSERT INTO stock_stockitem
        SELECT md5(n::text)::uuid, 'XZ-2026-' || lpad(n::text, 7, '0'), 1 + mod(n, 6), 1 + mod(n, 50),
               'in_stock', mod(n, 5000) / 100.0 + 0.5, 1,
               CASE WHEN mod(n, 3) = 0 THEN 'XZ/IV/2026/' || n END, ''
        FROM generate_series(1, %s) n
        """,
        [items],
    )
    cursor.execute(
        """
        INSERT INTO custody_ledgerentry (sequence, event, site_id, item_id, payload)
        SELECT row_number() OVER (ORDER BY i.sms_number), 'registered', i.site_id, i.id,
               jsonb_build_object('sms_number', i.sms_number, 'item_type', t.code,
                 'cites_mark', i.cites_mark, 'weight_kg', i.weight_kg::text,
                 'pieces', i.pieces, 'site', s.code)
        FROM stock_stockitem i JOIN stock_itemtype t ON t.id = i.item_type_id
        JOIN stock_site s ON s.id = i.site_id
        """
    )
    # Moves: dispatched from the site, received at the next one.
    cursor.execute(
        """
        WITH moved AS (
          SELECT id, site_id, 1 + mod(site_id, 50) AS dest,
                 row_number() OVER (ORDER BY sms_number) AS k
          FROM stock_stockitem ORDER BY sms_number LIMIT %s),
        base AS (SELECT max(sequence) AS s FROM custody_ledgerentry)
        INSERT INTO custody_ledgerentry (sequence, event, site_id, item_id, payload)
        SELECT base.s + 2 * k - 1, 'dispatched', site_id, id, '{"transfer": "T"}'::jsonb FROM moved, base
        UNION ALL
        SELECT base.s + 2 * k, 'received', dest, id, '{"transfer": "T"}'::jsonb FROM moved, base
        """,
        [moves],
    )
    cursor.execute(
        """
        UPDATE stock_stockitem i SET site_id = 1 + mod(i.site_id, 50)
        WHERE i.id IN (SELECT id FROM stock_stockitem ORDER BY sms_number LIMIT %s)
        """,
        [moves],
    )
    cursor.execute(
        """
        WITH fixed AS (
          SELECT id, weight_kg, row_number() OVER (ORDER BY sms_number DESC) AS k
          FROM stock_stockitem ORDER BY sms_number DESC LIMIT %s),
        base AS (SELECT max(sequence) AS s FROM custody_ledgerentry)
        INSERT INTO custody_ledgerentry (sequence, event, site_id, item_id, payload)
        SELECT base.s + k, 'correction', NULL, id,
               jsonb_build_object('changes', jsonb_build_array(jsonb_build_object(
                 'field', 'weight_kg', 'old', weight_kg::text, 'new', (weight_kg + 1)::text)),
                 'reason', 're-weighed')
        FROM fixed, base
        """,
        [corrections],
    )
    cursor.execute(
        """
        UPDATE stock_stockitem SET weight_kg = weight_kg + 1
        WHERE id IN (SELECT id FROM stock_stockitem ORDER BY sms_number DESC LIMIT %s)
        """,
        [corrections],
    )
    cursor.execute("VACUUM ANALYZE stock_stockitem")
    cursor.execute("VACUUM ANALYZE custody_ledgerentry")


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a process on this machine (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--moves", type=int, default=100_000)
    parser.add_argument("--corrections", type=int, default=50_000)
    parser.add_argument("--tampered", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432/sms_trust_bench")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded tables")
    args = parser.parse_args()

    import django

    django.setup()
    from stock.ledger_check import _statement

    base, name = args.url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(args.url, autocommit=True) as conn:
        cursor = conn.cursor()
        if not args.reuse:
            started = time.perf_counter()
            load(cursor, items=args.items, moves=args.moves, corrections=args.corrections)
            print(f"loaded {args.items:,} items in {time.perf_counter() - started:.0f} s")
        cursor.execute(f"SET search_path TO {SCHEMA}")
        entries = cursor.execute("SELECT count(*) FROM custody_ledgerentry").fetchone()[0]
        with conn.transaction(force_rollback=True):
            cursor.execute(
                "UPDATE stock_stockitem SET weight_kg = weight_kg + 0.001 WHERE id IN"
                " (SELECT id FROM stock_stockitem ORDER BY sms_number LIMIT %s OFFSET 1000)",
                [args.tampered],
            )
            statement = _statement()
            backend = cursor.execute("SELECT pg_backend_pid()").fetchone()[0]
            for run in range(1, args.runs + 1):
                wall, cpu, server = time.perf_counter(), time.process_time(), _cpu(backend)
                rows = cursor.execute(statement).fetchall()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                server = _cpu(backend) - server
                load1, load5, _ = os.getloadavg()
                found = {(r[1], r[4]) for r in rows}
                assert len(found) == args.tampered, found
                assert {f for _n, f in found} == {"weight_kg"}, found
                print(
                    f"run {run}: {args.items:,} items, {entries:,} entries: {wall:.1f} s wall, "
                    f"{server:.1f} s CPU in the PostgreSQL backend, {cpu:.2f} s in this process, "
                    f"{len(rows)} mismatches found; load average {load1:.1f} / {load5:.1f}"
                )


if __name__ == "__main__":
    main()
