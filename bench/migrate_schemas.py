"""Time ``migrate_schemas`` over many country schemas (DESIGN.md: 50 under 2 minutes).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sms_bench_migrate \\
        .venv/bin/python bench/migrate_schemas.py --countries 50

In a database of its own (its name must contain "bench"; it is created if
missing): drops the countries this script made before, creates --countries
empty country schemas (a Country row, a Domain, an empty schema: what a
deployment has before its first migration), then times the real command,
``manage.py migrate_schemas --executor=multiprocessing``, twice:

* fresh: every schema gets every migration;
* already migrated: nothing to do (what each deployment pays).

The codes are ISO 3166-1 user-assigned codes (AA, QM-QZ, XA-XZ, ZZ) and
then unassigned ones (FF, HH, ...): no real country is implied.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sms_platform.settings")

CODES = (
    ["AA"]
    + [f"Q{c}" for c in "MNOPQRSTUVWXYZ"]
    + [f"X{c}" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    + ["ZZ", "FF", "HH", "II", "JJ", "KK", "LL", "NN", "PP", "RR", "UU", "VV", "WW", "YY"]
)
NAME_PREFIX = "Migrationland"


def say(text: str) -> None:
    print(text, flush=True)


def ensure_database(url: str) -> None:
    import dj_database_url

    name = dj_database_url.parse(url)["NAME"]
    if "bench" not in name:
        raise SystemExit(f"Refusing to drop schemas in {name!r}: use a database named *bench*.")
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            say(f"created database {name}")


def manage(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT, env=os.environ
    )
    return time.perf_counter() - started


def reset_countries(count: int) -> None:
    import django

    django.setup()
    from django.db import connection
    from django_tenants.utils import quote_schema_name

    from tenants.models import Country, Domain, country_host

    with connection.cursor() as cursor:
        for country in Country.objects.filter(name__startswith=NAME_PREFIX):
            cursor.execute(
                f"DROP SCHEMA IF EXISTS {quote_schema_name(country.schema_name)} CASCADE"
            )
            Domain.objects.filter(tenant=country).delete()
            country.delete()
        for code in CODES[:count]:
            country = Country(
                schema_name=code.lower(),
                code=code,
                name=f"{NAME_PREFIX} {code}",
                languages=["en", "fr"],
                default_language="en",
            )
            # Empty schema, no migration: that is what we time.
            country.auto_create_schema = False
            country.save()
            cursor.execute(f"CREATE SCHEMA {quote_schema_name(country.schema_name)}")
            Domain.objects.create(tenant=country, domain=country_host(code), is_primary=True)
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--countries", type=int, default=50, choices=range(1, len(CODES) + 1))
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("Set DATABASE_URL to a database of its own, e.g. …/sms_bench_migrate.")
    ensure_database(url)
    processes = os.environ.get("SMS_MIGRATION_PROCESSES", "2")
    manage("migrate_schemas", "--shared", "-v", "0")
    reset_countries(args.countries)
    fresh = manage("migrate_schemas", "--executor=multiprocessing", "-v", "0")
    again = manage("migrate_schemas", "--executor=multiprocessing", "-v", "0")
    say(
        f"migrate_schemas --executor=multiprocessing, {args.countries} country schemas, "
        f"{processes} processes, {os.cpu_count()} CPUs:"
    )
    say(f"  fresh schemas (every migration):  {fresh:6.1f} s   target < 120 s")
    say(f"  already migrated (nothing to do): {again:6.1f} s")


if __name__ == "__main__":
    main()
