"""What writing the access log costs a page.

Times N requests to an item page of a country as one of its users, with the
access-log write and with it replaced by a no-op, in alternating blocks (so
drift of the machine hits both equally), and the bare INSERT on its own.
Prints median and 95th percentile in milliseconds.

    DATABASE_URL=postgres://... .venv/bin/python bench/access_log.py --country XD -n 500

Needs a country with at least one item (``manage.py demo_setup`` makes XD).
It writes real access events (and one session) into that country's log:
run it on a development or benchmark database, not in production.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sms_platform.settings")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def summary(label, values):
    ms = [v * 1000 for v in values]
    print(
        f"{label:<28} n={len(ms):<5} median={statistics.median(ms):7.2f} ms"
        f"  p95={percentile(ms, 95):7.2f} ms"
    )
    return statistics.median(ms), percentile(ms, 95)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--country", default="XD", help="ISO code of a country with items")
    parser.add_argument("-n", "--requests", type=int, default=300, help="requests per variant")
    parser.add_argument("--block", type=int, default=25, help="requests per alternating block")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django_tenants.utils import schema_context

    import audit.services
    from accounts.models import User
    from audit.models import AccessEvent
    from stock.models import StockItem
    from tenants.models import Country

    settings.DEBUG = False  # no query log growing in memory
    country = Country.objects.get(code=args.country.upper())
    with schema_context(country.schema_name):
        item = StockItem.objects.order_by("-created_at").first()
        if item is None:
            sys.exit(f"{country.code} has no item: run manage.py demo_setup first.")
        user = next(
            u
            for u in User.objects.filter(is_active=True, all_sites=True).order_by("username")
            if u.has_perm("stock.view_stockitem")
        )
        client = Client(HTTP_HOST=country.host)
        client.force_login(user)
    url = f"/items/{item.pk}/"
    real_record = audit.services.event_record

    def no_log(**kwargs):
        return None

    def run(count):
        timings = []
        for _n in range(count):
            start = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - start)
            assert response.status_code == 200, response.status_code
        return timings

    run(30)  # warm caches, connections, templates
    with_log, without_log = [], []
    done = 0
    while done < args.requests:
        size = min(args.block, args.requests - done)
        audit.services.event_record = real_record
        with_log += run(size)
        audit.services.event_record = no_log
        without_log += run(size)
        audit.services.event_record = real_record
        done += size

    inserts = []
    with schema_context(country.schema_name):
        for _n in range(args.requests):
            start = time.perf_counter()
            real_record(
                user=user,
                action=AccessEvent.Action.ITEM_VIEW,
                origin=audit.services.Origin("192.0.2.1", "bench"),
                obj=item,
            )
            inserts.append(time.perf_counter() - start)
        total = AccessEvent.objects.count()

    print(f"{country.code}: GET {url} as {user.username}; the log holds {total} events")
    m1, p1 = summary("page with access log", with_log)
    m0, p0 = summary("page without access log", without_log)
    summary("access-log INSERT alone", inserts)
    print(f"cost of logging: median +{m1 - m0:.2f} ms, p95 +{p1 - p0:.2f} ms")


if __name__ == "__main__":
    main()
