"""A country of its own for the archive tests (XQ), created and committed:
pg_dump and psql work in their own connections and see only committed rows,
so these tests are transactional and drop what they made."""

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django_tenants.utils import schema_context

CODE = "XQ"
SCHEMA = "xq"


@dataclass
class Made:
    country: object
    items: list
    run: object
    reg: object


def _drop_everything_of(code: str) -> None:
    from tenants.models import Country, Domain

    schema = code.lower()
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = %s OR nspname LIKE %s",
            [schema, f"{schema}\\_replaced\\_%"],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP SCHEMA "{name}" CASCADE')
    Domain.objects.filter(tenant__code=code).delete()
    Country.objects.filter(code=code).delete()


def make_country(code: str = CODE) -> Made:
    """Country ``code`` with two sites, items with photos, a transfer's worth
    of ledger and a kept report snapshot — all committed."""
    from accounts.services import roles_sync
    from reporting import services as reporting_services
    from tenants.services import country_create
    from tests.stock.conftest import image_bytes, make_register, register, upload

    country = country_create(
        code=code,
        name="Qualand",
        languages=["en", "fr"],
        default_language="fr",
        time_zone="Africa/Nairobi",
    )
    with schema_context(country.schema_name):
        roles_sync()
        reg = make_register()
        items = [
            register(reg, photos=[upload(image_bytes()), upload(image_bytes("PNG"), "b.png")]),
            register(reg, photos=[upload(image_bytes(color=(10, 20, 30)))]),
            register(reg, item_type=reg.scales, site=reg.site_y, actor=reg.manager_y),
        ]
        run = reporting_services.report_request(
            actor=reg.hq,
            kind="summary",
            fmt="csv",
            title="Stock summary",
            params={"start": "2025-01-01", "end": "2027-12-31", "group_by": ["site"]},
        )
        run = reporting_services.report_generate(run_id=run.pk)
        assert run.status == "done"
    return Made(country=country, items=items, run=run, reg=reg)


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings.MEDIA_ROOT


@pytest.fixture
def made(transactional_db, media_root):
    _drop_everything_of(CODE)
    yield make_country()
    _drop_everything_of(CODE)


def drop_country(code: str = CODE) -> None:
    """The country gone from this deployment: schema, rows and media."""
    _drop_everything_of(code)
    shutil.rmtree(Path(django_settings.MEDIA_ROOT) / "countries" / code.lower(), True)


def schema_digest(schema: str) -> dict[str, str]:
    """Every table's rows (as text, sorted) hashed, and every sequence's
    position: equal digests, identical data."""
    digest = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", [schema])
        for (table,) in cursor.fetchall():
            cursor.execute(
                f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) "  # noqa: S608
                f'FROM "{schema}"."{table}" t'
            )
            digest[table] = cursor.fetchone()
        cursor.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = %s", [schema]
        )
        for name, value in cursor.fetchall():
            digest[f"sequence {name}"] = value
    return digest


def media_digest(root: Path, schema: str) -> dict[str, str]:
    base = Path(root) / "countries" / schema
    return {
        path.relative_to(base).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(base.rglob("*"))
        if path.is_file()
    }
