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
import cProfile
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


def _proc_cpu(pid) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Meter:
    """What one sync run costs, independently of the machine's load: SQL
    statements sent (each a round trip), transactions committed, and CPU
    seconds of this process (the sync), of its PostgreSQL backend and of the
    fake Central's process. Wall time depends on the load; these don't."""

    def __init__(self, central_pid: int):
        self.central_pid = central_pid
        self.statements = 0

    def _count(self, execute, sql, params, many, context):
        self.statements += 1
        if os.environ.get("BENCH_TRACE"):
            print("SQL", sql[:150].replace(chr(10), " "))
        return execute(sql, params, many, context)

    def _commits(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
            )
            return cursor.fetchone()[0]

    def __enter__(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend_pid = cursor.fetchone()[0]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
        self.commits0 = self._commits()
        self.thread0 = time.thread_time()
        self.cpu0 = (
            time.process_time(),
            _proc_cpu(self.backend_pid),
            _proc_cpu(self.central_pid),
        )
        self.load0 = os.getloadavg()[0]
        self.wrapper = connection.execute_wrapper(self._count)
        self.wrapper.__enter__()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self.start
        self.main_thread = time.thread_time() - self.thread0
        self.wrapper.__exit__(*exc)
        self.cpu = [
            after - before
            for before, after in zip(
                self.cpu0,
                (time.process_time(), _proc_cpu(self.backend_pid), _proc_cpu(self.central_pid)),
                strict=True,
            )
        ]
        # The statistics collector flushes every second or so.
        time.sleep(1.5)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
        # Less the pg_stat_clear_snapshot() just above.
        self.commits = self._commits() - self.commits0 - 1
        self.load = f"{self.load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"

    def per_submission(self, n: int) -> str:
        n = max(n, 1)
        sync, backend, central = self.cpu
        total = sync + backend + central
        main = self.main_thread
        return (
            f"per submission: {self.statements / n:.1f} SQL statements (round trips), "
            f"{self.commits / n:.2f} transactions; CPU {1000 * sync / n:.2f} ms sync "
            f"({1000 * main / n:.2f} ms in the run's thread: pages read, submissions applied; "
            f"{1000 * (sync - main) / n:.2f} ms in the review PATCHes' threads) + "
            f"{1000 * backend / n:.2f} ms PostgreSQL + {1000 * central / n:.2f} ms fake Central "
            f"= {1000 * total / n:.2f} ms ({n / total:.0f} submissions per CPU second)"
        )


def main(count: int, page_size: int, keep: bool, profile: str = "") -> None:
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

    meter = profiler = None
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
            # Cut pieces of 1 kg or more need their length (under 20 cm: no mark).
            rows = [
                register_values(
                    weight_kg=round(1 + (n % 500) / 10, 1),
                    item_type="cut-piece" if n % 2 else "whole-tusk",
                    photo_1=None,
                    length_outer_cm=15 if n % 2 else None,
                )
                for n in range(count)
            ]
            fake.submit_many(
                REGISTER_FORM_ID, rows, submitter_id=app_users[reg.manager_x.pk].central_id
            )

            meter = Meter(fake.process.pid)
            # CPU time, not wall time: on a loaded machine the wall clock
            # mostly measures waiting for the CPU.
            profiler = cProfile.Profile(time.process_time) if profile else None
            with meter:
                if profiler:
                    profiler.enable()
                report = sync_country(push_entities=False)
                if profiler:
                    profiler.disable()
            assert report.error == "", report.error
            elapsed = meter.elapsed

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
        print(meter.per_submission(report.processed))
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
    if profiler:
        profiler.dump_stats(profile)
        print(f"profile written to {profile} (python -m pstats {profile}; sort cumtime)")
    if meter:
        print(f"load average (1 min) during the first run: {meter.load}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=settings.SMS_ODK_PAGE_SIZE)
    parser.add_argument("--keep", action="store_true", help="keep the ZZ schema afterwards")
    parser.add_argument(
        "--profile", default="", metavar="FILE", help="cProfile the first run into FILE"
    )
    args = parser.parse_args()
    main(args.submissions, args.page_size, args.keep, args.profile)
