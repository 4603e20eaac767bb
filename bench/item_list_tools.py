"""Benchmark of the item list's working tools at scale (issue 15 item 5):
the result count, the sorts with keyset paging, the wider search and the
export, on the loaded country of bench/stock_views.py.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sms_lists_bench \\
        .venv/bin/python bench/item_list_tools.py --items 1000000 --countries 1

It loads (or reuses) the benchmark country XZ exactly as bench/stock_views.py
does, then times the real views through django.test.Client and prints median
and p95 per case, and the export's rows per second.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import stock_views as base  # noqa: E402 (sets up Django)
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from tenants.models import Country, country_host  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--countries", type=int, default=1)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--skip-migrate", action="store_true")
    args = parser.parse_args()
    if base.settings.DATABASES["default"]["NAME"] == "sms":
        raise SystemExit("Refusing to load a benchmark into the default 'sms' database.")
    if not args.skip_migrate:
        call_command("migrate_schemas", executor="multiprocessing", interactive=False, verbosity=0)
        connection.set_schema_to_public()
    country = base.ensure_countries(args.countries)
    with schema_context(country.schema_name):
        base.ensure_items(args.items)
        from stock.models import ItemCategory, Site

        hq, manager, _big, manager_site = base.bench_users()
        ivory = ItemCategory.objects.get(kind="ivory")
        store = Site.objects.exclude(pk=manager_site.pk).order_by("pk").first()
        clients = {}
        for name, user in (("HQ officer", hq), ("store manager", manager)):
            client = Client()
            client.force_login(user)
            clients[name] = client
    host = country_host(country.code)
    word = store.name.split()[0]
    cases = [
        ("HQ officer", "list + count, no filter (totals)", ["/items/"]),
        (
            "HQ officer",
            "list + count, category+status (totals)",
            [f"/items/?category={ivory.pk}&status=in_stock"],
        ),
        ("HQ officer", "list + capped count, source=seizure", ["/items/?source=seizure"]),
        ("store manager", "list + capped count, source=seizure", ["/items/?source=seizure"]),
        ("HQ officer", f"search a store's name ({word!r})", [f"/items/?q={word}"]),
        ("HQ officer", "search a species/type word ('tusk')", ["/items/?q=tusk"]),
        ("HQ officer", "sort by weight, page 1", ["/items/?sort=-weight"]),
        ("HQ officer", "sort by SMS number, page 1", ["/items/?sort=number"]),
        ("store manager", "sort by weight, page 1", ["/items/?sort=-weight"]),
    ]
    pages2 = [
        ("HQ officer", "sort by weight, page 2 (cursor)", "/items/?sort=-weight"),
        ("store manager", "sort by weight, page 2 (cursor)", "/items/?sort=-weight"),
    ]
    for who, label, path in pages2:
        cases.append((who, label, [base.next_page_path(clients[who], host, path)]))
    base.say("")
    base.say(f"{'case':<48} {'user':<14} {'median ms':>10} {'p95 ms':>8}")
    for who, label, paths in cases:
        times = base.timed(clients[who], host, paths, requests=args.requests, warmup=args.warmup)
        base.say(
            f"{label:<48} {who:<14} {statistics.median(times):>10.1f} "
            f"{base.percentile(times, 95):>8.1f}"
        )
    for fmt in ("csv", "xlsx"):
        started = time.perf_counter()
        response = clients["store manager"].get(f"/items/export.{fmt}", HTTP_HOST=host)
        size = sum(len(chunk) for chunk in response.streaming_content)
        elapsed = time.perf_counter() - started
        with schema_context(country.schema_name):
            from stock.models import StockItem

            rows = StockItem.objects.filter(site=manager_site).exclude(status="archived").count()
        base.say(
            f"export {fmt} of the store manager's store: {rows:,} rows, {size / 1e6:.1f} MB "
            f"in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s)"
        )
    base.say(f"countries: {Country.objects.count()}, items: {args.items:,}")


if __name__ == "__main__":
    main()
