"""Time the creation of new countries (DESIGN.md: 50 new countries under 30 s).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sms_bench_countries \\
        .venv/bin/python bench/new_countries.py --countries 50

In a database of its own (its name must contain "bench"; it is created if
missing): migrates the public schema, drops the countries this script made
before, then times

* the template (tenants.cloning): built from scratch with --fresh-template,
  otherwise only checked against the migrations;
* --countries new countries with ``tenants.services.country_create``, each in
  its own transaction as provisioning does (Country row, schema copied from
  the template, Domain), one after the other, or by --jobs processes at once;
* --migrated countries made the old way (every migration), for comparison.

Codes as in bench/migrate_schemas.py (ISO 3166-1 user-assigned, then unassigned).
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sms_platform.settings")

from migrate_schemas import CODES, ensure_database, manage, say  # noqa: E402  (bench/)

NAME_PREFIX = "Newland"


def drop_previous(*, template: bool) -> None:
    from django.db import connection, transaction
    from django_tenants.utils import quote_schema_name

    from tenants.cloning import TEMPLATE_SCHEMA
    from tenants.models import Country, Domain

    # One transaction each: dropping them all at once takes more locks than
    # PostgreSQL's default lock table holds.
    for country in Country.objects.filter(name__startswith=NAME_PREFIX):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DROP SCHEMA IF EXISTS {quote_schema_name(country.schema_name)} CASCADE"
            )
            Domain.objects.filter(tenant=country).delete()
            country.delete()
    if template:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {TEMPLATE_SCHEMA} CASCADE")


def create(code: str, *, migrate: bool) -> float:
    from django.db import transaction

    from tenants.cloning import schema_migrate_new
    from tenants.models import Country, Domain, country_host
    from tenants.services import country_create

    spec = {
        "code": code,
        "name": f"{NAME_PREFIX} {code}",
        "languages": ["en", "fr"],
        "default_language": "en",
        "time_zone": "UTC",
    }
    started = time.perf_counter()
    with transaction.atomic():
        if migrate:
            # What country_create did before the template: every migration.
            country = Country(schema_name=code.lower(), **spec)
            country.auto_create_schema = False
            country.save()
            schema_migrate_new(country.schema_name)
            Domain.objects.create(tenant=country, domain=country_host(code), is_primary=True)
        else:
            country_create(**spec)
    return time.perf_counter() - started


def backend_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL process, when it
    runs on this machine and /proc shows it (a figure the machine's load
    doesn't inflate, unlike the wall time)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def create_share(codes: list[str]) -> tuple[list[float], float, float | None]:
    """In a process of its own (--jobs): create these countries; their times, the
    CPU of this process and of its PostgreSQL backend."""
    import django

    django.setup()
    cpu, backend = time.process_time(), backend_cpu()
    times = [create(code, migrate=False) for code in codes]
    after = backend_cpu()
    backend = None if backend is None or after is None else after - backend
    return times, time.process_time() - cpu, backend


def summary(label: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (
        f"{label}: median {statistics.median(times):.2f} s, p95 {p95:.2f} s,"
        f" max {max(times):.2f} s (sum {sum(times):.1f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--countries", type=int, default=50)
    parser.add_argument("--migrated", type=int, default=3, help="countries made the old way")
    parser.add_argument("--fresh-template", action="store_true", help="time building it too")
    parser.add_argument("--jobs", type=int, default=1, help="processes creating countries")
    args = parser.parse_args()
    if args.countries + args.migrated > len(CODES):
        raise SystemExit(f"at most {len(CODES)} countries in all")
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("Set DATABASE_URL to a database of its own, e.g. …/sms_bench_countries.")
    ensure_database(url)
    manage("migrate_schemas", "--shared", "-v", "0")

    import django

    django.setup()
    from django.db import transaction

    from tenants.cloning import template_current

    drop_previous(template=args.fresh_template)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with transaction.atomic():
        cloneable = template_current()
    template = time.perf_counter() - started
    if not cloneable:
        say("The template can't be copied (see the warning above): countries will be migrated.")

    codes = CODES[: args.countries]
    started = time.perf_counter()
    if args.jobs == 1:
        cloned, cpu, backend = create_share(codes)
    else:
        from django.db import connection

        connection.close()  # not shared with the children
        context = multiprocessing.get_context("spawn")
        with context.Pool(args.jobs) as pool:
            shares = pool.map(create_share, [codes[i :: args.jobs] for i in range(args.jobs)])
        cloned = [t for times, _, _ in shares for t in times]
        cpu = sum(share[1] for share in shares)
        backends = [share[2] for share in shares]
        backend = None if None in backends else sum(backends)
    wall = time.perf_counter() - started
    migrated = [
        create(code, migrate=True)
        for code in CODES[args.countries : args.countries + args.migrated]
    ]

    how = "one after the other" if args.jobs == 1 else f"{args.jobs} processes at once"
    say(f"New countries, {how}; {os.cpu_count()} CPUs, load {load:.1f} at start:")
    say(f"  template {'built' if args.fresh_template else 'checked'}: {template:6.1f} s")
    say(
        f"  {len(cloned)} copied from the template in {wall:.1f} s   target: 50 in < 30 s\n"
        + summary("    each", cloned)
    )
    say(
        f"    CPU: Python {cpu:.1f} s"
        + (f", PostgreSQL {backend:.1f} s" if backend is not None else "")
        + " (the rest is waiting: disk flushes, other processes)"
    )
    if migrated:
        say(f"  {len(migrated)} migrated (the old way)\n" + summary("    each", migrated))
        estimate = statistics.mean(migrated) * args.countries
        say(f"    {args.countries} the old way: about {estimate:.0f} s")


if __name__ == "__main__":
    main()
