"""Benchmark of the CITES ivory declaration at scale (DESIGN.md: "CITES annual
report under 2 s").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<a database of its own> \\
        .venv/bin/python bench/reporting_cites.py --items 1000000

In a database of its own (never the one you work in):

1. migrates every schema and provisions the benchmark country XZ with 50
   sites (bench/stock_views.py's helpers), loading --items items in SQL if
   XZ does not hold that many yet;
2. writes the custody ledger those items would have (bench data bypasses the
   services, so it has none): a "registered" entry per item on its date
   received, "dispatched" for items in transit, "stocktake_missing" for
   missing ones, "archived" for archived ones. The entries are NOT hash
   chained nor signed (verify_ledger fails on this country; it is benchmark data),
   then builds the report aggregates from it (reporting.totals.rebuild, as
   ``manage.py rebuild_report_totals`` does) when they are missing;
3. times, as an administrator with every site: a summary of last year by
   site, five years year by year, the ivory declaration's figures for last
   year (reporting.cites.declaration; the annex is not read), the whole
   document (reporting.documents.build), the document with its XLSX and
   with its PDF as the export task makes them (built and rendered in one
   snapshot, the annex streamed from the database into the file; a long
   annex is not printed in the PDF), and the dashboard's two charts on a
   cache miss. Prints min / median / max of --repeat runs of the wall
   time, this process's CPU time and the CPU time of the database server
   process serving it, the load average during the runs and the peak
   memory.
"""

import argparse
import os
import resource
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.stock_views import (  # noqa: E402 - sets Django up
    BENCH_CODE,
    ensure_country,
    load_items,
    say,
)

TARGET_S = 2.0


def write_ledger(admin_id: int) -> int:
    """The ledger the loaded items imply; returns its number of entries."""
    from ledger.models import LedgerEntry

    if LedgerEntry.objects.exists():
        return LedgerEntry.objects.count()
    started = time.perf_counter()
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute("SET LOCAL synchronous_commit = off")
        # Registrations first (sequence by date received), then the rest.
        cursor.execute(
            "INSERT INTO custody_ledgerentry (sequence, event, occurred_at, actor_id, actor_name,"
            " site_id, item_id, payload, prev_hash, hash, signature)"
            " SELECT row_number() OVER (ORDER BY i.received_on, i.id), 'registered',"
            " i.received_on::timestamptz, %s, 'bench', i.site_id, i.id,"
            " jsonb_build_object('weight_kg', i.weight_kg::text, 'pieces', i.pieces,"
            "   'item_type', t.code, 'cites_mark', i.cites_mark, 'sms_number', i.sms_number),"
            " '', md5(i.id::text) || md5(i.sms_number), ''"
            " FROM stock_stockitem i JOIN stock_itemtype t ON t.id = i.item_type_id",
            [admin_id],
        )
        registered = cursor.rowcount
        cursor.execute(
            "INSERT INTO custody_ledgerentry (sequence, event, occurred_at, actor_id, actor_name,"
            " site_id, item_id, payload, prev_hash, hash, signature)"
            " SELECT %s + row_number() OVER (ORDER BY i.id),"
            " CASE i.status WHEN 'in_transit' THEN 'dispatched' WHEN 'missing'"
            "   THEN 'stocktake_missing' ELSE 'archived' END,"
            " greatest(i.received_on + 20, current_date - 1)::timestamptz, %s, 'bench',"
            " i.site_id, i.id,"
            " CASE WHEN i.status = 'archived' THEN jsonb_build_object('reason', a.reason,"
            "   'archived_on', a.archived_on::text, 'weight_kg', i.weight_kg::text)"
            "   ELSE '{}'::jsonb END,"
            " '', md5(i.sms_number) || md5(i.id::text), ''"
            " FROM stock_stockitem i LEFT JOIN stock_archiverecord a ON a.item_id = i.id"
            " WHERE i.status <> 'in_stock'",
            [registered, admin_id],
        )
        total = registered + cursor.rowcount
        # The head names the last entry and its hash: the database refuses
        # any other (ledger.models.HeadFollowsTheChain).
        cursor.execute(
            "UPDATE custody_ledgerhead SET last_sequence = e.sequence, last_hash = e.hash"
            " FROM custody_ledgerentry e WHERE custody_ledgerhead.id = 1 AND e.sequence = %s",
            [total],
        )
        cursor.execute("ANALYZE custody_ledgerentry")
    say(f"ledger: {total:,} entries written in {time.perf_counter() - started:.1f} s")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from django_tenants.utils import schema_context

    call_command("migrate_schemas", interactive=False, verbosity=0)
    country, _seconds = ensure_country(BENCH_CODE, "Benchmarkland", 50)
    from django.core.cache import cache

    from accounts.models import User
    from reporting.cites import declaration
    from reporting.documents import build, snapshot
    from reporting.exports import render
    from reporting.figures import Scope
    from reporting.models import ItemPosition
    from reporting.totals import rebuild
    from reporting.views import charts_for
    from stock.models import StockItem

    with schema_context(country.schema_name):
        connection.tenant = country
        admin = User.objects.filter(is_active=True).order_by("pk").first()
        admin.all_sites = True
        if StockItem.objects.count() != args.items:
            if StockItem.objects.exists():
                say("XZ holds another number of items: run bench/stock_views.py first, or")
                say("use --items with the number it holds.")
                return
            load_items(args.items, admin_id=admin.pk)
        entries = write_ledger(admin.pk)
        if ItemPosition.objects.count() != StockItem.objects.count():
            started = time.perf_counter()
            counts = rebuild()
            say(
                f"aggregates rebuilt from the ledger in {time.perf_counter() - started:.1f} s: "
                f"{counts['items']:,} items, {counts['transitions']:,} changes, "
                f"{counts['movements']:,} movement rows"
            )
        year = date.today().year - 1
        say(f"country XZ: {StockItem.objects.count():,} items, {entries:,} ledger entries")
        summary_params = {"start": f"{year}-01-01", "end": f"{year}-12-31", "group_by": ["site"]}
        cites_params = {"cites_kind": "ivory", "year": year}
        labels = {
            "summary": f"summary {year} by site",
            "yearly": f"year by year {year - 4}-{year}",
            "figures": "CITES ivory figures",
            "document": "CITES ivory document",
            "xlsx": "document + its XLSX",
            "pdf": "document + its PDF",
            "charts": "dashboard charts (cache miss)",
        }
        timings = {name: [] for name in labels}
        cpu = {name: [] for name in labels}
        db_cpu = {name: [] for name in labels}
        sizes = {}
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]

        def backend_cpu() -> float:
            """CPU seconds the database server process serving this
            connection has used (user + system; /proc, same machine)."""
            try:
                fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return float("nan")
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        def timed(name, work):
            """Wall time; this process's CPU time and its database server
            process's: on a machine others load, CPU time is what the step
            costs (wall time waits for the CPU others use)."""
            wall, spent, spent_db = time.perf_counter(), time.process_time(), backend_cpu()
            value = work()
            timings[name].append(time.perf_counter() - wall)
            cpu[name].append(time.process_time() - spent)
            db_cpu[name].append(backend_cpu() - spent_db)
            return value

        def charts_on_a_miss():
            cache.clear()  # a miss: what the first dashboard view after expiry pays
            return charts_for(admin)

        def export(fmt):
            # As the export task does (reporting.services): the document built
            # and rendered in one snapshot, the annex streamed as it is written.
            with snapshot():
                content = render(build("cites", cites_params, user=admin), fmt)
            sizes[fmt] = len(content)
            return content

        loads = []
        for _ in range(args.repeat):
            loads.append(os.getloadavg()[0])
            timed("summary", lambda: build("summary", summary_params, user=admin))
            timed(
                "yearly",
                lambda: build("yearly", {"first_year": year - 4, "last_year": year}, user=admin),
            )
            result = timed("figures", lambda: declaration(kind="ivory", year=year, scope=Scope()))
            timed("document", lambda: build("cites", cites_params, user=admin))
            timed("xlsx", lambda: export("xlsx"))
            timed("pdf", lambda: export("pdf"))
            timed("charts", charts_on_a_miss)
            loads.append(os.getloadavg()[0])
        say(
            f"ivory {year}: {result.total.items:,} items held, {result.total.weight_kg:,} kg, "
            f"{result.marked:,} marked, {len(result.annex):,} rows in the annex; "
            f"XLSX {sizes['xlsx'] / 1e6:.1f} MB, PDF {sizes['pdf'] / 1e3:.0f} kB"
        )
        say(f"{args.repeat} runs; min / median / max in seconds")
        say(f"  {'step':<30} {'wall':>22}   {'CPU here':>22}   {'CPU of its db server':>22}")

        def spread(values):
            return f"{min(values):6.2f} {statistics.median(values):6.2f} {max(values):6.2f}"

        for name, values in timings.items():
            say(
                f"  {labels[name]:<30} {spread(values):>22}   {spread(cpu[name]):>22}"
                f"   {spread(db_cpu[name]):>22}"
            )
        say(f"  (target: CITES annual report under {TARGET_S:.0f} s)")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        say(
            f"  peak memory of this process: {peak:,.0f} MB; 1-minute load average during "
            f"the runs {min(loads):.1f}-{max(loads):.1f} ({os.cpu_count()} CPUs)"
        )


if __name__ == "__main__":
    main()
