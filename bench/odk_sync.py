"""Benchmark: ODK sync ingest throughput (submissions per second, photos aside).

A fake ODK Central (tests/odk/fake_central.py, real HTTP on 127.0.0.1) runs
in a process of its own, so serving the feed and the review PATCHes does not
compete with the sync for the interpreter lock. It holds N Register item
submissions without attachments (half whole tusks, which get a CITES mark,
half cut pieces). One sync of a throwaway benchmark country (ZZ "Benchland",
dropped and created again on every run) is timed from its start to its end:
pulling every page, registering every item through stock.services.item_register
(one transaction per submission, as in production: no outer transaction) and
writing every review state back. Then it checks that nothing was lost or
doubled, and times a second run that finds nothing new.

Run it against a database of its own (it creates and drops the ZZ schema):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sms_bench \
        .venv/bin/python bench/odk_sync.py --submissions 10000
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

BENCH_CODE, BENCH_NAME = "ZZ", "Benchland"


def fresh_country():
    """The benchmark country, created anew (an earlier run's schema is dropped)."""
    from tenants.models import Country
    from tenants.services import country_create

    old = Country.objects.filter(code=BENCH_CODE).first()
    if old is not None:
        if old.name != BENCH_NAME:
            sys.exit(f"Country {BENCH_CODE} exists and is not the benchmark's: not touching it.")
        old.delete()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{BENCH_CODE.lower()}" CASCADE')
    return country_create(
        code=BENCH_CODE, name=BENCH_NAME, default_language="en", languages=["en"], time_zone="UTC"
    )


def drop_country(country) -> None:
    country.delete()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{country.schema_name}" CASCADE')


def main(count: int, page_size: int, keep: bool) -> None:
    from accounts.services import roles_sync
    from odk import services
    from odk.models import Submission
    from odk.sync import sync_country
    from odk.xlsforms import REGISTER_FORM_ID
    from stock.models import StockItem
    from tests.factories import DEFAULT_PASSWORD
    from tests.odk.conftest import register_values
    from tests.odk.fake_central import PASSWORD, USERNAME, FakeCentralProcess
    from tests.stock.conftest import make_register

    settings.SMS_FIELD_ENCRYPTION_KEY = settings.SMS_FIELD_ENCRYPTION_KEY or "bench"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SMS_ODK_HTTP_RETRIES = 0
    settings.SMS_ODK_PAGE_SIZE = page_size
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
            services.forms_publish(actor=reg.admin)
            app_users = {a.user_id: a for a in services.app_users_sync(actor=reg.admin)}
            rows = [
                register_values(
                    weight_kg=round(1 + (n % 500) / 10, 1),
                    item_type="cut-piece" if n % 2 else "whole-tusk",
                    photo_1=None,
                    length_outer_cm=None,
                )
                for n in range(count)
            ]
            fake.submit_many(
                REGISTER_FORM_ID, rows, submitter_id=app_users[reg.manager_x.pk].central_id
            )

            start = time.perf_counter()
            report = sync_country(push_entities=False)
            elapsed = time.perf_counter() - start
            assert report.error == "", report.error

            items = StockItem.objects.count()
            processed = Submission.objects.filter(status=Submission.Status.PROCESSED).count()
            approved = fake.review_states().get("approved", 0)
            assert items == processed == approved == count, (items, processed, approved)

            again_start = time.perf_counter()
            again = sync_country(push_entities=False)
            again_elapsed = time.perf_counter() - again_start
            assert again.processed == 0 and StockItem.objects.count() == count

        print(
            f"{report.processed} submissions registered in {elapsed:.1f} s "
            f"({report.pages} pages of {page_size}, {report.reviews_pushed} review states "
            f"written back): {report.processed / elapsed:.0f} submissions/second"
        )
        print(
            f"checked: {items} items, {processed} submissions processed, "
            f"{approved} approved in Central"
        )
        print(
            f"second run, nothing new ({again.rows} rows seen again, all skipped): "
            f"{again_elapsed:.1f} s"
        )
    finally:
        fake.stop()
        if not keep:
            drop_country(country)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=settings.SMS_ODK_PAGE_SIZE)
    parser.add_argument("--keep", action="store_true", help="keep the ZZ schema afterwards")
    args = parser.parse_args()
    main(args.submissions, args.page_size, args.keep)
