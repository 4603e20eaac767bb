"""Benchmark: pushing the *items* entity list to ODK Central (items per second).

A fake ODK Central (tests/odk/fake_central.py, real HTTP on 127.0.0.1) runs
in a process of its own. A throwaway benchmark country (ZZ "Benchland",
dropped and created again on every run) gets N items in stock — one
registered through the register's service, the others copied from it in bulk
SQL with their own id and SMS number (the push reads only the item, its store
and its type; registering 100,000 items one by one would measure the register,
not the push). Then one ``entities_push`` is timed: the first push of a
country, every item a new entity, sent in Central's bulk create. A second push
that finds nothing changed is timed too.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sms_bench \\
        .venv/bin/python bench/odk_entities.py --items 100000
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sms_platform.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from bench.odk_sync import drop_country, fresh_country  # noqa: E402


def copy_items(source_id, count: int) -> None:
    """``count`` copies of the item ``source_id``, each with its own id and SMS number."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'stock_stockitem'"
        )
        columns = [row[0] for row in cursor.fetchall() if row[0] not in ("id", "sms_number")]
        listed = ", ".join(f'"{c}"' for c in columns)
        # The CITES mark and its serial are unique: the copies have none.
        unmarked = {"cites_mark": "NULL", "mark_series": "''", "mark_year": "NULL"}
        unmarked["mark_serial"] = "NULL"
        selected = ", ".join(unmarked.get(c, f'"{c}"') for c in columns)
        # Column names come from information_schema, not from input.
        query = (
            f"INSERT INTO stock_stockitem (id, sms_number, {listed}) "  # noqa: S608
            f"SELECT gen_random_uuid(), 'BENCH-' || n, {selected} "
            "FROM stock_stockitem, generate_series(1, %s) AS n WHERE id = %s"
        )
        cursor.execute(
            query,
            [count, source_id],
        )


def main(count: int) -> None:
    from accounts.services import roles_sync
    from odk import services
    from odk.models import ItemEntity
    from tests.factories import DEFAULT_PASSWORD
    from tests.odk.fake_central import PASSWORD, USERNAME, FakeCentralProcess
    from tests.stock.conftest import make_register, register

    settings.SMS_FIELD_ENCRYPTION_KEY = settings.SMS_FIELD_ENCRYPTION_KEY or "bench"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SMS_ODK_HTTP_RETRIES = 0
    country = fresh_country()
    fake = FakeCentralProcess().start()
    try:
        with schema_context(country.schema_name):
            roles_sync()
            reg = make_register()
            services.connection_save(
                actor=reg.admin,
                base_url=fake.url,
                username=USERNAME,
                password=PASSWORD,
                current_password=DEFAULT_PASSWORD,
            )
            services.project_create(actor=reg.admin)
            services.forms_publish(actor=reg.admin)  # makes the entity list
            item = register(reg)
            copy_items(item.pk, count - 1)

            start = time.perf_counter()
            changes = services.entities_push()
            elapsed = time.perf_counter() - start
            in_central = fake.entity_count()
            assert changes == in_central == count, (changes, in_central, count)
            assert ItemEntity.objects.filter(in_central=True).count() == count

            again_start = time.perf_counter()
            again = services.entities_push()
            again_elapsed = time.perf_counter() - again_start
            assert again == 0 and fake.entity_count() == count

        load = os.getloadavg()
        print(
            f"{changes} entities created in Central in {elapsed:.1f} s "
            f"({services.ENTITY_BATCH} a request): {changes / elapsed:.0f} items/s"
        )
        print(f"second push, nothing changed: {again_elapsed:.1f} s")
        print(f"load average during the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    finally:
        fake.stop()
        drop_country(country)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    main(args.items)
