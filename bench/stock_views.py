"""Benchmark of the stock register's pages at scale (DESIGN.md, "Performance targets").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sms_bench \\
        .venv/bin/python bench/stock_views.py --items 1000000

What it does, in a database of its own (never the one you work in):

1. migrates every schema (``migrate_schemas``, multiprocessing executor);
2. provisions the benchmark country XZ ("Benchmarkland", a user-assigned ISO
   code) through the provisioning service, from the demo protocol with 50
   sites, and --countries - 1 small countries beside it (20 in all by
   default, DESIGN.md's figure);
3. loads --items items into XZ in SQL (INSERT ... SELECT generate_series, in
   batches), with CITES marks on the ivory and horn that needs one, case
   references, a skewed spread over the sites, some in transit, missing and
   archived (with their archive records), then builds StockTotal from one
   aggregate, sets the serial counters past what was loaded, and runs
   VACUUM ANALYZE. A country already loaded with exactly --items items is
   reused as it is; any other count is emptied and loaded again;
4. times the real views through django.test.Client on the country host, as an
   HQ officer with every site and as a store manager of one site:
   --requests requests per page after --warmup, and prints median and p95
   next to the targets — and beside them the time of the raw SQL that
   answers the page (its own statements on the item, total, photo, change,
   archive, ledger and report tables, captured from one request and run
   again on a plain cursor, median of --requests runs): the difference is
   what the framework adds (sessions, permissions, access log, rendering);
   and the CPU time this process spent per request (median), which a busy
   machine inflates far less than the wall times; and the shared buffers the
   page's own statements touch (EXPLAIN (ANALYZE, BUFFERS) of each), which
   must not grow with the country;
5. with --explain, prints EXPLAIN (ANALYZE, BUFFERS) of the store manager's
   filtered item list (category + status, page 1) and its shared buffers,
   and of the dashboard's curves on a cache miss (HQ officer and store
   manager): the month-end balances they read, beside the buffers and rows
   the old way (summing the net monthly movements) would read.

Loading bypasses the services on purpose (a million registrations through
them would take hours); the views read what the services would have written.
"""

import argparse
import html
import os
import random
import re
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sms_platform.settings")
# Timings as in production: no query log, no debug pages.
os.environ.setdefault("DJANGO_DEBUG", "false")

import django  # noqa: E402

django.setup()

import yaml  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from accounts.roles import HQ_OFFICER, SMS_ADMINISTRATOR, STORE_MANAGER  # noqa: E402
from provisioning.protocol import protocol_parse  # noqa: E402
from provisioning.services import country_provision  # noqa: E402
from tenants.models import Country, country_host  # noqa: E402

BENCH_CODE = "XZ"
# User-assigned ISO 3166-1 codes (QM-QZ, XE-XY): no real country is implied.
OTHER_CODES = [f"Q{c}" for c in "MNOPQRSTUVWXYZ"] + [f"X{c}" for c in "EFGHIJKLMNOPQRSTUVWY"]
DEMO_PROTOCOL = ROOT / "provisioning" / "protocols" / "demo.yaml"
BATCH = 100_000

TARGETS_MS = {  # p95 at 1,000,000 items on 2 cores (issue 17: a third of DESIGN.md's)
    "dashboard": 50,
    "list": 50,
    "search": 20,
    "detail": 50,
}
# The tables whose statements answer a page (the rest is the framework's:
# search_path, the tenant's domain, session, user, permissions, access log,
# and the cached stores and types).
DATA_TABLES = (
    "stock_stockitem",
    "stock_stocktotal",
    "stock_itemphoto",
    "stock_itemchange",
    "stock_archiverecord",
    "ledger_",
    "reporting_",
    "custody_",
)


def say(text: str) -> None:
    print(text, flush=True)


# --- countries ----------------------------------------------------------------------


def protocol_for(code: str, name: str, sites: int):
    spec = yaml.safe_load(DEMO_PROTOCOL.read_text(encoding="utf-8"))
    spec["country"].update(code=code, name=name, time_zone="UTC")
    spec["sites"] = [
        {
            "code": f"store-{n:02d}",
            "name": f"{name} store {n:02d}",
            "region": f"Region {1 + n % 8}",
            "custodian": f"Custodian {n:02d}",
        }
        for n in range(1, sites + 1)
    ]
    spec["administrators"] = [
        {"full_name": "Bench Administrator", "email": f"admin@{code.lower()}.example"}
    ]
    return protocol_parse(yaml.safe_dump(spec, allow_unicode=True))


def ensure_country(code: str, name: str, sites: int) -> tuple[Country, float]:
    started = time.perf_counter()
    if not Country.objects.filter(code=code).exists():
        country_provision(protocol=protocol_for(code, name, sites), send_invitations=False)
    return Country.objects.get(code=code), time.perf_counter() - started


def ensure_countries(count: int) -> Country:
    bench, seconds = ensure_country(BENCH_CODE, "Benchmarkland", 50)
    made = [seconds]
    for code in OTHER_CODES[: max(0, count - 1)]:
        _country, seconds = ensure_country(code, f"Smallland {code}", 3)
        made.append(seconds)
    say(
        f"countries: {Country.objects.count()} in the database "
        f"(this run: {sum(made):.1f} s to provision/check {len(made)})"
    )
    return bench


# --- loading --------------------------------------------------------------------------


def _literal_defaults(model, provided: set[str]) -> tuple[list[str], list]:
    """Columns and values for every NOT NULL field we do not compute, from
    the model's own defaults, so that a field added later does not break us."""
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in provided or field.null or field.primary_key:
            continue
        default = field.get_default()
        columns.append(field.column)
        values.append(field.get_db_prep_save(default, connection))
    return columns, values


def load_items(count: int, *, admin_id: int) -> None:
    from stock.models import ArchiveRecord, ItemType, Site, StockItem

    sites = list(Site.objects.order_by("code").values_list("pk", flat=True))
    types = list(ItemType.objects.select_related("category").order_by("pk"))
    # Ivory is most of what stores hold: weight the types' shares.
    weights = {"ivory": 6, "rhino_horn": 2, "pangolin": 2}
    rows = []
    for item_type in types:
        for _ in range(weights.get(item_type.category.kind, 1)):
            rows.append(
                (
                    len(rows),
                    item_type.pk,
                    item_type.marking != "none",
                    item_type.is_lot,
                )
            )
    sources = [c for c, _label in StockItem.Source.choices]
    computed = {
        "id": "gen_random_uuid()",
        "sms_number": "%(code)s || '-' || extract(year FROM s.received_on)::int || '-' "
        "|| lpad(s.n::text, 7, '0')",
        "item_type_id": "s.type_id",
        "site_id": "s.site_id",
        "status": "CASE WHEN s.r1 < 0.94 THEN 'in_stock' WHEN s.r1 < 0.96 THEN 'in_transit' "
        "WHEN s.r1 < 0.97 THEN 'missing' ELSE 'archived' END",
        "weight_kg": "s.weight",
        "pieces": "CASE WHEN s.lot THEN 50 + (s.r2 * 5000)::int ELSE 1 END",
        "bags": "CASE WHEN s.lot THEN 1 + (s.r2 * 20)::int END",
        "source": "(%(sources)s::text[])[1 + floor(s.r3 * %(nsources)s)::int]",
        "case_reference": "CASE WHEN s.r4 < 0.4 THEN 'CASE/' || (s.n %% 40000) ELSE '' END",
        "received_on": "s.received_on",
        "cites_mark": "CASE WHEN s.marked AND s.weight >= 1 THEN %(code)s || ' ' "
        "|| to_char(s.received_on, 'YY') || '/' || s.n || '/' || floor(s.weight)::int END",
        "created_at": "now() - make_interval(days => (s.r4 * 3000)::int)",
        "updated_at": "now()",
        "created_by_id": "%(admin)s",
    }
    extra_columns, extra_values = _literal_defaults(StockItem, set(computed))
    columns = list(computed) + extra_columns
    extra_sql = [f"%(extra{i})s" for i in range(len(extra_values))]
    insert = (
        f"INSERT INTO stock_stockitem ({', '.join(columns)}) "  # noqa: S608 - our own columns
        f"SELECT {', '.join([*computed.values(), *extra_sql])} FROM ("
        "  SELECT g.n, t.type_id, t.marked, t.lot, r1, r2, r3, r4,"
        "    (%(sites)s::bigint[])[1 + floor(%(nsites)s * power(r5, 1.6))::int] AS site_id,"
        "    current_date - (r6 * 3650)::int AS received_on,"
        "    round((CASE WHEN t.lot THEN 5 + r2 * 400 ELSE 0.2 + r2 * 40 END)::numeric, 3)"
        "      AS weight"
        "  FROM generate_series(%(first)s, %(last)s) AS g(n)"
        "  CROSS JOIN LATERAL (SELECT random() r1, random() r2, random() r3, random() r4,"
        "                             random() r5, random() r6, g.n AS k) rnd"
        "  JOIN bench_types t ON t.idx = (rnd.k::bigint * 7919) %% %(ntypes)s"
        ") s"
    )
    params = {
        "code": BENCH_CODE,
        "admin": admin_id,
        "sites": sites,
        "nsites": len(sites),
        "sources": sources,
        "nsources": len(sources),
        "ntypes": len(rows),
        **{f"extra{i}": value for i, value in enumerate(extra_values)},
    }
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_types"
            " (idx int PRIMARY KEY, type_id bigint, marked bool, lot bool)"
        )
        cursor.execute("TRUNCATE bench_types")
        cursor.executemany("INSERT INTO bench_types VALUES (%s, %s, %s, %s)", rows)
        for first in range(1, count + 1, BATCH):
            last = min(count, first + BATCH - 1)
            with transaction.atomic():
                cursor.execute(insert, {**params, "first": first, "last": last})
            say(f"  items {last:>9,} loaded ({time.perf_counter() - started:5.1f} s)")
        archive_sql, archive_params = _archive_insert(ArchiveRecord, admin_id)
        cursor.execute(archive_sql, archive_params)
        say(f"  archive records: {cursor.rowcount:,}")
        _totals_and_serials(cursor, count)
    say(f"loaded {count:,} items in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Plans need statistics; index-only scans need the visibility map.
        cursor.execute("VACUUM ANALYZE stock_stockitem")
        cursor.execute("VACUUM ANALYZE stock_stocktotal")
        cursor.execute("VACUUM ANALYZE stock_archiverecord")
    say(f"VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")


def _archive_insert(model, admin_id: int) -> tuple[str, dict]:
    computed = {
        "item_id": "i.id",
        "reason": "'destroyed'",
        "archived_on": "i.received_on + 30",
        "authority_reference": "'BENCH/' || i.sms_number",
        "archived_by_id": "%(admin)s",
        "archived_at": "now()",
    }
    extra_columns, extra_values = _literal_defaults(model, set(computed))
    values = [*computed.values(), *[f"%(extra{i})s" for i in range(len(extra_values))]]
    sql = (
        f"INSERT INTO stock_archiverecord ({', '.join([*computed, *extra_columns])}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM stock_stockitem i WHERE i.status = 'archived'"
    )
    return sql, {"admin": admin_id, **{f"extra{i}": v for i, v in enumerate(extra_values)}}


def _totals_and_serials(cursor, count: int) -> None:
    cursor.execute("DELETE FROM stock_stocktotal")
    cursor.execute(
        "INSERT INTO stock_stocktotal (site_id, item_type_id, status, items, pieces, weight_kg)"
        " SELECT site_id, item_type_id, status, count(*), sum(pieces), sum(weight_kg)"
        " FROM stock_stockitem GROUP BY site_id, item_type_id, status"
    )
    say(f"  stock totals: {cursor.rowcount:,} rows from one aggregate")
    # New registrations must not collide with what was loaded.
    year = date.today().year
    cursor.execute(
        "INSERT INTO stock_itemnumberserial (year, last_serial) VALUES (%s, %s)"
        " ON CONFLICT (year) DO UPDATE SET last_serial = EXCLUDED.last_serial",
        [year, count],
    )
    cursor.execute("SELECT DISTINCT mark_pattern FROM stock_itemcategory WHERE mark_pattern <> ''")
    patterns = [row[0] for row in cursor.fetchall()]
    for loaded_year in range(year - 10, year + 1):
        for pattern in patterns:
            cursor.execute(
                "INSERT INTO stock_markserial (year, series, last_serial) VALUES (%s, %s, %s)"
                " ON CONFLICT (year, series) DO UPDATE SET last_serial = EXCLUDED.last_serial",
                [loaded_year, pattern, count],
            )


def ensure_items(count: int) -> None:
    from accounts.models import User
    from stock.models import StockItem

    loaded = StockItem.objects.count()
    if loaded == count:
        say(f"items: {count:,} already loaded, reused")
        return
    if loaded:
        say(f"items: {loaded:,} loaded, not {count:,}: emptying the register")
        with connection.cursor() as cursor:
            # TRUNCATE, not DELETE: the never-delete triggers guard against
            # people, and this is the benchmark's own country. CASCADE empties
            # whatever else refers to items (custody, ODK) in this schema only.
            cursor.execute("TRUNCATE stock_stockitem, stock_stocktotal CASCADE")
    admin = User.objects.filter(groups__name="SMS administrator").order_by("pk").first()
    load_items(count, admin_id=admin.pk)


# --- timing ---------------------------------------------------------------------------


def bench_users():
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.roles import ROLES
    from stock.models import Site, StockTotal

    hq, _ = User.objects.get_or_create(
        username="bench-hq", defaults={"all_sites": True, "full_name": "Bench HQ"}
    )
    hq.groups.set([Group.objects.get(name=ROLES[HQ_OFFICER].name)])
    # A middle-sized store: the manager's pages are neither trivial nor the worst case.
    per_site = list(
        StockTotal.objects.filter(status="in_stock")
        .values("site")
        .annotate(n=django.db.models.Sum("items"))
        .order_by("-n")
        .values_list("site", flat=True)
    )
    site = Site.objects.get(pk=per_site[len(per_site) // 2]) if per_site else Site.objects.first()
    manager, _ = User.objects.get_or_create(
        username="bench-manager", defaults={"full_name": "Bench Manager"}
    )
    manager.groups.set([Group.objects.get(name=ROLES[STORE_MANAGER].name)])
    manager.scoped_sites.set([site])
    # The manager of the biggest store: their list sorts the most rows.
    big, _ = User.objects.get_or_create(
        username="bench-big-store", defaults={"full_name": "Bench Big Store"}
    )
    big.groups.set([Group.objects.get(name=ROLES[STORE_MANAGER].name)])
    big.scoped_sites.set([per_site[0]] if per_site else [site])
    assert ROLES[SMS_ADMINISTRATOR]  # the loader's author
    return hq, manager, big, site


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def timed(client: Client, host: str, paths: list[str], *, requests: int, warmup: int):
    for i in range(warmup):
        client.get(paths[i % len(paths)], HTTP_HOST=host)
    times, cpu = [], []
    for i in range(requests):
        path = paths[i % len(paths)]
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path, HTTP_HOST=host)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
    timed.cpu = cpu  # the Python side's CPU per request, beside the wall times
    return times


def page_statements(client: Client, host: str, path: str) -> list[str]:
    """The statements of one request of ``path`` that read the page's own
    data, as sent (parameters in place)."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(path, HTTP_HOST=host)
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
        and any(table in q["sql"] for table in DATA_TABLES)
    ]


def raw_sql_ms(schema: str, statements: list[str], *, runs: int) -> float:
    """Median over ``runs`` of the time to run ``statements`` (and fetch
    their rows) on a plain cursor in ``schema``."""
    times = []
    with schema_context(schema), connection.cursor() as cursor:
        for _ in range(runs):
            started = time.perf_counter()
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def page_buffers(schema: str, statements: list[str]) -> int:
    """Shared buffers (hit + read) the page's own statements touch, from
    EXPLAIN (ANALYZE, BUFFERS) of each: what must not grow with the country."""
    total = 0
    with schema_context(schema), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0][0]
            top = plan["Plan"]
            total += top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
            total += plan.get("Planning", {}).get("Shared Hit Blocks", 0)
    return total


def explain(schema: str, statements: list[str], title: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the item query among ``statements``."""
    item_queries = [sql for sql in statements if "stock_stockitem" in sql]
    if not item_queries:
        say(f"{title}: no item query captured")
        return
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute(item_queries[0])  # warm, as the pages are
        cursor.fetchall()
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {item_queries[0]}")
        plan = [row[0] for row in cursor.fetchall()]
    say("")
    say(f"EXPLAIN (ANALYZE, BUFFERS): {title}")
    say(item_queries[0])
    for line in plan:
        say(f"  {line}")
    top = next((line for line in plan if "Buffers:" in line), "")
    say(f"buffers of the whole query: {top.strip()}")


def next_page_path(client: Client, host: str, path: str) -> str:
    body = client.get(path, HTTP_HOST=host).content.decode()
    found = re.search(r'rel="next" href="([^"]+)"', body)
    if not found:
        raise SystemExit(f"{path}: no next page")
    href = html.unescape(found.group(1))
    return href if href.startswith("/") else "/items/" + href


def run_timings(
    country: Country, *, requests: int, warmup: int, show_plan: bool = False
) -> list[tuple]:
    from stock.models import ItemCategory, StockItem, StockTotal

    host = country_host(country.code)
    rng = random.Random(7)
    with schema_context(country.schema_name):
        hq, manager, big, manager_site = bench_users()
        biggest_site = (
            StockTotal.objects.filter(status="in_stock")
            .values("site")
            .annotate(n=django.db.models.Sum("items"))
            .order_by("-n")
            .values_list("site", flat=True)
            .first()
        )
        ivory = ItemCategory.objects.get(kind="ivory")
        # Random samples by primary key ranges would need a scan; TABLESAMPLE does not.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, cites_mark, sms_number, site_id FROM stock_stockitem"
                " TABLESAMPLE SYSTEM (1) WHERE cites_mark IS NOT NULL LIMIT 2000"
            )
            sample = cursor.fetchall()
        rng.shuffle(sample)
        marks = [row[1] for row in sample[:200]]
        loose = [re.sub(r"/(\d+)/", r"/0\1/", m, count=1).replace(" ", "").lower() for m in marks]
        item_ids = [str(row[0]) for row in sample[:200]]
        numbers = [row[2] for row in sample[:200]]
        manager_items = list(
            StockItem.objects.filter(site=manager_site).values_list("pk", flat=True)[:200]
        )
        clients = {}
        for name, user in (("HQ officer", hq), ("store manager", manager), ("big store", big)):
            client = Client()
            client.force_login(user)
            clients[name] = client
    cases = [
        ("dashboard", "HQ officer", "dashboard", ["/"]),
        ("dashboard", "store manager", "dashboard", ["/"]),
        ("list", "HQ officer", "list, no filter", ["/items/"]),
        (
            "list",
            "HQ officer",
            "list, site+category+status",
            [f"/items/?site={biggest_site}&category={ivory.pk}&status=in_stock"],
        ),
        (
            "list",
            "store manager",
            "list, category+status",
            [f"/items/?category={ivory.pk}&status=in_stock"],
        ),
        (
            "list",
            "big store",
            "list, category+status",
            [f"/items/?category={ivory.pk}&status=in_stock"],
        ),
        ("search", "HQ officer", "search by mark", [f"/items/?q={m}" for m in marks]),
        ("search", "store manager", "search by mark", [f"/items/?q={m}" for m in marks]),
        # Typed another way: lower case, no blank, a leading zero in the serial
        # (stock.marks.canonical_query finds the stored canonical form).
        ("search", "HQ officer", "search by mark typed loosely", [f"/items/?q={t}" for t in loose]),
        ("search", "HQ officer", "search by SMS number", [f"/items/?q={n}" for n in numbers]),
        ("detail", "HQ officer", "item detail", [f"/items/{pk}/" for pk in item_ids]),
        ("detail", "store manager", "item detail", [f"/items/{pk}/" for pk in manager_items]),
    ]
    page2 = {
        who: next_page_path(
            clients[who],
            host,
            f"/items/?site={biggest_site}&category={ivory.pk}&status=in_stock"
            if who == "HQ officer"
            else f"/items/?category={ivory.pk}&status=in_stock",
        )
        for who in ("HQ officer", "store manager")
    }
    cases.insert(5, ("list", "HQ officer", "list page 2 (cursor)", [page2["HQ officer"]]))
    cases.insert(6, ("list", "store manager", "list page 2 (cursor)", [page2["store manager"]]))
    results = []
    for kind, who, label, paths in cases:
        times = timed(clients[who], host, paths, requests=requests, warmup=warmup)
        cpu = statistics.median(timed.cpu)
        statements = page_statements(clients[who], host, paths[0])
        sql_ms = raw_sql_ms(country.schema_name, statements, runs=min(requests, 20))
        buffers = page_buffers(country.schema_name, statements)
        results.append(
            (
                label,
                who,
                statistics.median(times),
                percentile(times, 95),
                kind,
                sql_ms,
                cpu,
                buffers,
            )
        )
    if show_plan:
        path = f"/items/?category={ivory.pk}&status=in_stock"
        statements = page_statements(clients["store manager"], host, path)
        explain(country.schema_name, statements, f"store manager's list {path}")
        for who, user in (("HQ officer", hq), ("store manager", manager)):
            explain_charts(country.schema_name, user, who)
    return results


def chart_statements(user, *, source: str) -> list[str]:
    """The statements that read the dashboard's two curves on a cache miss:
    from the month-end balances (``source="balances"``, what the dashboard
    does), or by summing the net movements as before (``"movements"``)."""
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from reporting.aggregates import Totals
    from reporting.definitions import Figures
    from reporting.figures import Scope, country_zone
    from reporting.selectors import CHART_MONTHS

    today = timezone.now().astimezone(country_zone()).date()
    first = (today.replace(day=1) - timedelta(days=31 * (CHART_MONTHS - 1))).replace(day=1)
    totals = Totals(scope=Scope.of_user(user))
    read = Totals.monthly_balances if source == "balances" else Figures.monthly_balances
    with CaptureQueriesContext(connection) as queries:
        for by in ("category", "site"):
            read(totals, first=first, last=today, by=by)
    return [q["sql"] for q in queries.captured_queries if "reporting_m" in q["sql"]]


def explain_charts(schema: str, user, who: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the curves' statements (both curves), and
    what the old way (summing the net movements) reads, for comparison."""
    with schema_context(schema):
        with connection.cursor() as cursor:
            # Index-only scans need the visibility map, which autovacuum keeps
            # (a table just filled or rebuilt has none yet).
            cursor.execute("VACUUM ANALYZE reporting_monthbalance")
            cursor.execute("VACUUM ANALYZE reporting_movementtotal")
        for source in ("balances", "movements"):
            statements = chart_statements(user, source=source)
            buffers, rows, ms = 0, 0, 0.0
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)  # warm, as on the dashboard
                    cursor.fetchall()
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
                    plan = cursor.fetchone()[0][0]
                    top = plan["Plan"]
                    buffers += top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
                    rows += _rows_read(top)
                    ms += plan["Execution Time"]
            say(
                f"charts ({who}) from {'month balances' if source == 'balances' else 'movements'}:"
                f" {len(statements)} statements, {buffers} buffers, {rows:,} rows read, {ms:.1f} ms"
            )
            if source == "balances" and statements:
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statements[0]}")
                    for (line,) in cursor.fetchall():
                        say(f"  {line}")


def _rows_read(node: dict) -> int:
    """Rows the plan's scans returned (index and table scans, all loops)."""
    own = 0
    if "Scan" in node.get("Node Type", ""):
        own = node.get("Actual Rows", 0) * node.get("Actual Loops", 1)
    return own + sum(_rows_read(child) for child in node.get("Plans", []))


def report(results, *, items: int, countries: int, requests: int) -> None:
    say("")
    say(
        f"{items:,} items in {BENCH_CODE}, {countries} countries, {requests} requests per page, "
        f"{os.cpu_count()} CPUs, PostgreSQL {connection.cursor().connection.info.server_version}"
    )
    say(
        f"{'page':<28} {'user':<14} {'median ms':>10} {'p95 ms':>8} {'target':>8}"
        f" {'':<6} {'raw SQL ms':>10} {'CPU ms':>7} {'buffers':>8}"
    )
    for label, who, median, p95, kind, sql_ms, cpu, buffers in results:
        target = TARGETS_MS[kind]
        verdict = "ok" if p95 < target else "MISSED"
        say(
            f"{label:<28} {who:<14} {median:>10.1f} {p95:>8.1f} {'<' + str(target):>8}"
            f" {verdict:<6} {sql_ms:>10.2f} {cpu:>7.1f} {buffers:>8}"
        )
    say(
        "raw SQL: the page's own statements run again on a plain cursor (median);"
        " CPU: this process's CPU per request (median; PostgreSQL's not included);"
        " buffers: shared buffers those statements touch (EXPLAIN ANALYZE BUFFERS)"
    )
    say(f"load average now: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--countries", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--skip-migrate", action="store_true")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print EXPLAIN (ANALYZE, BUFFERS) of the store manager's filtered list",
    )
    args = parser.parse_args()
    database = settings.DATABASES["default"]["NAME"]
    if database == "sms":
        raise SystemExit("Refusing to load a benchmark into the default 'sms' database.")
    say(f"database {database}")
    if not args.skip_migrate:
        started = time.perf_counter()
        call_command("migrate_schemas", executor="multiprocessing", interactive=False, verbosity=0)
        connection.set_schema_to_public()
        say(f"migrate_schemas: {time.perf_counter() - started:.1f} s")
    country = ensure_countries(args.countries)
    with schema_context(country.schema_name):
        ensure_items(args.items)
    results = run_timings(
        country, requests=args.requests, warmup=args.warmup, show_plan=args.explain
    )
    report(
        results,
        items=args.items,
        countries=Country.objects.count(),
        requests=args.requests,
    )


if __name__ == "__main__":
    main()
