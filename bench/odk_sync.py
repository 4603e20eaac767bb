"""Benchmark: ODK sync ingest throughput (submissions per second, photos aside).

Serves a fake ODK Central (tests/odk/fake_central.py, real HTTP on
127.0.0.1) holding N Register item submissions without attachments, runs one
sync of a benchmark country (ZZ) and prints submissions/second. Everything it
writes is rolled back at the end; the country schema is kept for the next run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sms_bench \
        .venv/bin/python bench/odk_sync.py [N]
"""

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
from django.db import transaction  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402


class Rollback(Exception):
    pass


def main(count: int) -> None:
    from accounts.services import roles_sync
    from odk import services
    from odk.sync import sync_country
    from odk.xlsforms import REGISTER_FORM_ID
    from tenants.models import Country
    from tenants.services import country_create
    from tests.odk.conftest import register_values
    from tests.odk.fake_central import PASSWORD, USERNAME, FakeCentral
    from tests.stock.conftest import make_register

    settings.SMS_FIELD_ENCRYPTION_KEY = settings.SMS_FIELD_ENCRYPTION_KEY or "bench"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SMS_ODK_HTTP_RETRIES = 0
    country = Country.objects.filter(code="ZZ").first()
    if country is None:
        country = country_create(
            code="ZZ", name="Benchland", default_language="en", languages=["en"], time_zone="UTC"
        )
    fake = FakeCentral().start()
    try:
        with schema_context(country.schema_name):
            roles_sync()
            try:
                with transaction.atomic():
                    reg = make_register()
                    services.connection_save(
                        actor=reg.admin, base_url=fake.url, username=USERNAME, password=PASSWORD
                    )
                    services.project_create(actor=reg.admin)
                    services.forms_publish(actor=reg.admin)
                    app_users = {a.user_id: a for a in services.app_users_sync(actor=reg.admin)}
                    submitter = app_users[reg.manager_x.pk].central_id
                    for n in range(count):
                        values = register_values(
                            weight_kg=round(1 + (n % 500) / 10, 1),
                            item_type="cut-piece" if n % 2 else "whole-tusk",
                            photo_1=None,
                            length_outer_cm=None,
                        )
                        fake.submit(REGISTER_FORM_ID, values, submitter_id=submitter)
                    start = time.perf_counter()
                    report = sync_country(push_entities=False)
                    elapsed = time.perf_counter() - start
                    assert report.error == "", report.error
                    print(
                        f"{report.processed} submissions registered in {elapsed:.1f} s "
                        f"({report.pages} pages of {settings.SMS_ODK_PAGE_SIZE}, "
                        f"{report.reviews_pushed} review states written back): "
                        f"{report.processed / elapsed:.0f} submissions/second"
                    )
                    raise Rollback
            except Rollback:
                pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
