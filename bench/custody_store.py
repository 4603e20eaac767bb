"""A whole store counted and moved by scanning, through the real pages (issue 15).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sms_custody_bench \\
        .venv/bin/python bench/custody_store.py --items 300

In a database of its own (never the one you work in): migrates, provisions a
small country XY from the demo protocol (once; reused after), then makes two
new stores and their managers, registers --items items at the first through
the services, and through django.test.Client on the country host:

1. opens a stock-take and times its page (size in bytes, rows);
2. scans every item's SMS number as the page's script does (one POST asking
   for JSON per number) and times each;
3. signs off (nothing missing) and times it;
4. prepares a transfer of the whole store with "all the filter shows",
   dispatches it, receives it with "all arrived as dispatched", timing each
   step and the pages (picker, transfer page) and the receipt PDF.

Every write goes through the services the pages call; nothing is loaded in SQL.
"""

import argparse
import os
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sms_platform.settings")
os.environ.setdefault("DJANGO_DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from tenants.models import country_host  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from stock_views import ensure_country  # noqa: E402

CODE = "XY"


def say(text: str) -> None:
    print(text, flush=True)


def ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend (same machine: /proc)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Step:
    """Wall time, this process's CPU (the application), the database
    backend's CPU and the number of SQL statements of one step."""

    def __enter__(self):
        from django.test.utils import CaptureQueriesContext

        self.queries = CaptureQueriesContext(connection)
        self.queries.__enter__()
        self.db = _backend_cpu()
        self.cpu = time.process_time()
        self.wall = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        self.db = _backend_cpu() - self.db
        self.queries.__exit__(*exc)
        # Less the two statements _backend_cpu itself sent.
        self.count = len(self.queries.captured_queries) - 1
        return False

    def __str__(self):
        return (
            f"{self.wall * 1000:.0f} ms wall, {self.cpu * 1000:.0f} ms app CPU, "
            f"{self.db * 1000:.0f} ms database CPU, {self.count} SQL statements"
        )


def setup_store(items: int):
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.roles import ROLES, STORE_MANAGER
    from stock import services
    from stock.models import ItemType, Site

    suffix = uuid.uuid4().hex[:6]
    origin = Site.objects.create(code=f"bench-a-{suffix}", name=f"Bench store A {suffix}")
    destination = Site.objects.create(code=f"bench-b-{suffix}", name=f"Bench store B {suffix}")
    group = Group.objects.get(name=ROLES[STORE_MANAGER].name)
    users = []
    for site in (origin, destination):
        user = User.objects.create(
            username=f"bench-{site.code}", full_name=f"Manager {site.name}", email=""
        )
        user.groups.set([group])
        user.scoped_sites.set([site])
        users.append(user)
    types = list(
        ItemType.objects.filter(enabled=True, category__enabled=True, counting="single")
        .exclude(marking__startswith="cites")
        .select_related("category")[:3]
    ) or list(ItemType.objects.filter(enabled=True)[:1])
    started = time.perf_counter()
    for n in range(items):
        item_type = types[n % len(types)]
        data = {"weight_kg": f"{1 + (n % 40) * 0.25:.3f}", "source": "seizure"}
        if item_type.is_lot:
            data.update(pieces=10, bags=1)
        services.item_register(actor=users[0], site=origin, item_type=item_type, data=data)
    say(f"registered {items} items through the service: {time.perf_counter() - started:.1f} s")
    return origin, destination, users


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--skip-migrate", action="store_true")
    args = parser.parse_args()
    if settings.DATABASES["default"]["NAME"] == "sms":
        raise SystemExit("Refusing to run in the default 'sms' database.")
    if not args.skip_migrate:
        call_command("migrate_schemas", interactive=False, verbosity=0)
        connection.set_schema_to_public()
    country, _seconds = ensure_country(CODE, "Benchland", 3)
    host = country_host(country.code)
    say(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    with schema_context(country.schema_name):
        from custody.models import Transfer
        from stock.models import StockItem

        origin, destination, (sender, receiver) = setup_store(args.items)
        numbers = list(
            StockItem.objects.filter(site=origin)
            .order_by("sms_number")
            .values_list("sms_number", flat=True)
        )
    client = Client(HTTP_HOST=host)
    with schema_context(country.schema_name):
        client.force_login(sender)

    started = time.perf_counter()
    url = client.post("/stock-takes/", {"site": origin.pk}).url
    say(f"stock-take opened ({args.items} lines): {ms(started):.0f} ms")
    started = time.perf_counter()
    page = client.get(url)
    say(
        f"stock-take page: {ms(started):.0f} ms, {len(page.content) / 1024:.0f} KiB, "
        f"{page.content.decode().count('name="items" value=')} rows on the page"
    )
    times = []
    with Step() as scans:
        for number in numbers:
            started = time.perf_counter()
            answer = client.post(url + "scan/", {"number": number}, HTTP_ACCEPT="application/json")
            times.append(ms(started))
            assert answer.json()["outcome"] == "found", answer.content
    times.sort()
    say(
        f"scan ({len(times)}): median {statistics.median(times):.0f} ms, "
        f"p95 {times[int(len(times) * 0.95) - 1]:.0f} ms; all of them: {scans} "
        f"(load {os.getloadavg()[0]:.2f})"
    )
    with Step() as step:
        response = client.post(url + "sign-off/", {"note": "bench"})
    assert response.status_code == 302, response.content[:2000]
    say(f"sign-off: {step}")

    started = time.perf_counter()
    page = client.get("/transfers/new/", {"origin": origin.pk})
    body = page.content.decode()
    say(
        f"transfer picker: {ms(started):.0f} ms, {len(page.content) / 1024:.0f} KiB, "
        f"{body.count('name="items" value=')} rows"
    )
    token = re.search(r'name="submission_token" value="([^"]+)"', body)
    started = time.perf_counter()
    response = client.post(
        "/transfers/new/",
        {
            "origin": origin.pk,
            "destination": destination.pk,
            "reason": "Bench",
            "authority_reference": "BENCH/1",
            "all_matching": str(len(numbers)),
            "action": "prepare",
            **({"submission_token": token.group(1)} if token else {}),
        },
    )
    assert response.status_code == 302, response.content[:3000]
    say(f"prepare (all {len(numbers)} by 'all the filter shows'): {ms(started):.0f} ms")
    transfer_url = response.url
    with Step() as step:
        response = client.post(
            transfer_url + "dispatch/",
            {"seal_numbers": "S-1", "courier": "Bench", "dispatching_officer": "Bench"},
        )
    assert response.status_code == 302
    say(f"dispatch: {step} (load {os.getloadavg()[0]:.2f})")
    with schema_context(country.schema_name):
        client.force_login(receiver)
    started = time.perf_counter()
    page = client.get(transfer_url)
    say(f"transfer page to receive: {ms(started):.0f} ms, {len(page.content) / 1024:.0f} KiB")
    with schema_context(country.schema_name):
        transfer = Transfer.objects.get(pk=int(transfer_url.strip("/").split("/")[-1]))
        seals = {f"seal_{pk}": "on" for pk in transfer.lines.values_list("item_id", flat=True)}
    with Step() as step:
        response = client.post(
            transfer_url + "receive/", {"rest_arrived": str(len(numbers)), **seals}
        )
    assert response.status_code == 302, response.content[:3000]
    say(f"receive (all arrived as dispatched): {step} (load {os.getloadavg()[0]:.2f})")
    with schema_context(country.schema_name):
        at_destination = StockItem.objects.filter(site=destination, status="in_stock").count()
    assert at_destination == len(numbers), at_destination
    started = time.perf_counter()
    pdf = client.get(transfer_url + "receipt.pdf")
    say(f"receipt PDF: {ms(started):.0f} ms, {len(pdf.content) / 1024:.0f} KiB")
    say(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
