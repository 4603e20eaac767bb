"""Benchmark: the register import of a large old inventory (rows per second).

A throwaway country ZZ "Benchland" (dropped and created again on every run)
gets two stores, the test register's ivory and pangolin types and an SMS
administrator. A spreadsheet laid out as an old national register (columns
in another order, French and custom headers, store names to map, weights
with a decimal comma, dates received in 2015) holds N rows: whole tusks
with their 2015 CITES marks, cut pieces, lots of scales, and one row in a
hundred of an item already archived (destroyed) in the old register. It is
uploaded, checked (the dry run) and imported through imports.services, as
the Celery task does (run_process, in this process); then imported again
(nothing new). Each phase is timed; the totals are checked against the
sheet.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sms_bench \\
        .venv/bin/python bench/bench_import.py --rows 25000
"""

import argparse
import datetime
import io
import os
import sys
import time
from decimal import Decimal
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
HEADERS = [
    "No.",
    "Magasin",
    "Tusk No.",
    "Description",
    "Poids (kg)",
    "Pieces",
    "Bags",
    "Date de réception",
    "Source",
    "Seizure file",
    "Remarks",
    "Archive reason",
    "Archived on",
    "Authority reference",
    "Destruction method",
    "Witnesses",
]


def fresh_country():
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
        code=BENCH_CODE,
        name=BENCH_NAME,
        default_language="en",
        languages=["en", "fr"],
        time_zone="UTC",
    )


def drop_country(country) -> None:
    country.delete()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{country.schema_name}" CASCADE')


def sheet_rows(count: int):
    """(rows, expected totals {(store, type code): [items, weight]} in stock)."""
    rows, expected = [], {}
    stores = ["Central Armoury", "Coast Strongroom"]
    for n in range(count):
        store = stores[n % 2]
        kind = n % 4
        day = datetime.date(2015, 1 + n % 12, 1 + n % 28)
        archived = n % 100 == 99
        if kind in (0, 1):  # a whole tusk, marked in 2015
            weight = Decimal(200 + n % 300) / 10  # 20.0 .. 49.9 kg
            mark = f"ZZ 15/{n + 1}/{int((weight + Decimal('0.5')) // 1)}"
            type_code, pieces, bags = "whole-tusk", 1, None
        elif kind == 2:  # a cut piece under 1 kg: no mark
            weight = Decimal(1 + n % 9) / 10
            mark, type_code, pieces, bags = None, "cut-piece", 1, None
        else:  # a lot of scales
            weight = Decimal(100 + n % 400) / 10
            mark, type_code, pieces, bags = None, "scales", 50 + n % 500, 1 + n % 3
        weight_text = format(weight, "f").replace(".", ",")
        row = [
            n + 1,
            store,
            mark,
            type_code,
            weight_text,
            pieces,
            bags,
            day if n % 3 else day.strftime("%d/%m/%Y"),
            "Seizure" if n % 5 else "Natural mortality",
            f"CASE-{n // 10}" if n % 5 == 0 else None,
            "broken tip" if n % 7 == 0 else None,
        ]
        if archived:
            row += ["Destroyed", datetime.date(2016, 4, 30), "Burn order 1/2016", "Burnt", "Panel"]
        else:
            row += [None] * 5
            totals = expected.setdefault((store, type_code), [0, Decimal(0)])
            totals[0] += 1
            totals[1] += weight
        rows.append(row)
    return rows, expected


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds used so far by this process and by its PostgreSQL backend
    (read from /proc: the database must run on this machine). On a machine
    shared with other work the wall time is mostly waiting for a core; the
    CPU time is what the import costs."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        backend = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        backend = float("nan")
    return time.process_time(), backend


def load() -> str:
    """The load average (1, 5, 15 minutes) as ``uptime`` shows it."""
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def workbook(rows) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Inventory 2015")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main(count: int, keep: bool, profile: str = "") -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.services import roles_sync
    from imports import services
    from imports.models import ImportRun
    from stock.models import Site, StockTotal
    from tests.stock.conftest import make_register

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = ROOT / "var" / "bench-media"
    rows, expected = sheet_rows(count)
    started = time.perf_counter()
    content = workbook(rows)
    print(
        f"sheet of {count} rows written in {time.perf_counter() - started:.1f} s "
        f"({len(content) / 1e6:.1f} MB)"
    )
    country = fresh_country()
    try:
        with schema_context(country.schema_name):
            # As in the Celery task (tenant-aware): the country itself, not a
            # stand-in with its schema's name, so nothing looks it up again.
            connection.set_tenant(country)
            roles_sync()
            reg = make_register()
            reg.ivory.mark_pattern = "{country} {yy}/{serial}/{weight}"
            reg.ivory.save()
            from stock.models import CustomFieldDefinition

            CustomFieldDefinition.objects.create(
                key="seizure_file", labels={"en": "Seizure file"}, field_type="text"
            )
            admin = reg.admin

            def timed(label, function, profile_as=None):
                profiler = None
                if profile and profile_as:
                    import cProfile

                    profiler = cProfile.Profile(time.process_time)  # CPU, not waiting
                began, cpu = time.perf_counter(), cpu_seconds()
                if profiler is not None:
                    profiler.enable()
                result = function()
                if profiler is not None:
                    profiler.disable()
                    profiler.dump_stats(f"{profile}-{profile_as}.prof")
                seconds = time.perf_counter() - began
                used = [after - before for after, before in zip(cpu_seconds(), cpu, strict=True)]
                print(
                    f"{label}: {seconds:.1f} s wall ({count / seconds:.0f} rows/s) at load "
                    f"{load()}; CPU: this process {used[0]:.1f} s, its database backend "
                    f"{used[1]:.1f} s"
                )
                return result, (seconds, sum(used))

            run, _ = timed(
                "upload (read headers and store names)",
                lambda: services.run_upload(
                    actor=admin, upload=SimpleUploadedFile("inventory-2015.xlsx", content)
                ),
            )
            run = services.mapping_save(
                actor=admin,
                run=run,
                columns={
                    "Tusk No.": "cites_mark",
                    "Description": "item_type",
                    "No.": "notes_extra",
                },
                stores={"Central Armoury": reg.site_x.pk, "Coast Strongroom": reg.site_y.pk},
            )

            def process(dry_run):
                services.run_request(actor=admin, run=run, dry_run=dry_run, queue=False)
                return services.run_process(run_id=run.pk, dry_run=dry_run)

            checked, (dry_seconds, dry_cpu) = timed(
                "dry run (every row checked, checked file written)",
                lambda: process(True),
                "dry-run",
            )
            assert checked.status == ImportRun.Status.CHECKED, checked.error
            assert checked.rows_refused == 0, checked.report[:3]
            done, (import_seconds, import_cpu) = timed(
                "import (checked again, then written)", lambda: process(False), "import"
            )
            assert done.status == ImportRun.Status.DONE, done.error
            assert done.rows_created == count, done.rows_created
            again_run = services.run_upload(
                actor=admin, upload=SimpleUploadedFile("inventory-2015.xlsx", content)
            )
            again_run = services.mapping_save(actor=admin, run=again_run, columns={}, stores={})

            def again():
                services.run_request(actor=admin, run=again_run, dry_run=False, queue=False)
                return services.run_process(run_id=again_run.pk, dry_run=False)

            repeated, _ = timed("the same file again (nothing new)", again)
            assert repeated.rows_created == 0 and repeated.rows_known == count
            sites = {s.pk: s for s in Site.objects.all()}
            stores = {reg.site_x.pk: "Central Armoury", reg.site_y.pk: "Coast Strongroom"}
            for total in StockTotal.objects.filter(status="in_stock").select_related("item_type"):
                key = (stores[total.site_id], total.item_type.code)
                assert [total.items, total.weight_kg] == expected[key], (key, total, expected[key])
            assert len(sites) == 2
        print(
            f"{count} rows imported with their checks in {import_seconds:.1f} s wall, "
            f"{import_cpu:.1f} s of CPU (target 60 s); dry run {dry_seconds:.1f} s wall, "
            f"{dry_cpu:.1f} s of CPU; load {load()} (a wall time at a load above 2 is "
            "mostly waiting for a core); totals per store and type match the sheet"
        )
    finally:
        if not keep:
            drop_country(country)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=25_000)
    parser.add_argument("--keep", action="store_true", help="keep the ZZ schema afterwards")
    parser.add_argument(
        "--profile",
        metavar="PREFIX",
        default="",
        help="write cProfile stats of the dry run and the import to PREFIX-dry-run.prof and "
        "PREFIX-import.prof (read them with python -m pstats); the CPU times then include "
        "the profiler's cost",
    )
    args = parser.parse_args()
    main(args.rows, args.keep, args.profile)
