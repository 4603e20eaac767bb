"""Country files: every country under countries/<schema>/, on disk and in an
S3-compatible bucket (moto's S3 server, run here on a free local port), and a
stored file is never overwritten."""

import datetime
import hashlib

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django_tenants.utils import schema_context
from moto.server import ThreadedMotoServer

from reporting.models import ReportRun, report_upload_to
from tenants.s3storage import CountryS3Storage
from tenants.storage import CountryFileSystemStorage
from tests.stock.conftest import image_bytes, make_register, register, upload

pytestmark = pytest.mark.django_db

BUCKET = "sms-media-test"


@pytest.fixture(scope="module")
def s3_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, settings, monkeypatch):
    """The default storage is the country-aware S3 storage on a fresh bucket."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "tenants.s3storage.CountryS3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "region_name": "us-east-1",
                "default_acl": "private",
                "querystring_auth": True,
            },
        },
    }
    yield client
    for entry in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=entry["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _keys(client) -> dict[str, bytes]:
    found = {}
    for entry in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        found[entry["Key"]] = client.get_object(Bucket=BUCKET, Key=entry["Key"])["Body"].read()
    return found


def _report_one_name() -> str:
    """The name report 1 of November 2026 gets in any country (ids restart in
    every schema, so two countries' first reports share it)."""
    run = ReportRun(pk=1, requested_at=datetime.datetime(2026, 11, 5, tzinfo=datetime.UTC))
    return report_upload_to(run, "summary.xlsx")


def test_two_countries_report_one_of_the_same_month_land_on_two_keys(s3, country_a, country_b):
    name = _report_one_name()
    assert name == "reports/2026/11/1-summary.xlsx"
    with schema_context(country_a.schema_name):
        assert isinstance(storages["default"], CountryS3Storage)
        saved_a = default_storage.save(name, ContentFile(b"Alphaland's report"))
    with schema_context(country_b.schema_name):
        saved_b = default_storage.save(name, ContentFile(b"Betaland's report"))

    assert saved_a == saved_b == name
    assert _keys(s3) == {
        "countries/xa/reports/2026/11/1-summary.xlsx": b"Alphaland's report",
        "countries/xb/reports/2026/11/1-summary.xlsx": b"Betaland's report",
    }
    # Each country reads its own file back under the same name.
    with schema_context(country_b.schema_name), default_storage.open(name) as handle:
        assert handle.read() == b"Betaland's report"
    with schema_context(country_a.schema_name), default_storage.open(name) as handle:
        assert handle.read() == b"Alphaland's report"


def test_a_taken_key_is_never_overwritten(s3, country_a):
    name = _report_one_name()
    with schema_context(country_a.schema_name):
        first = default_storage.save(name, ContentFile(b"first"))
        second = default_storage.save(name, ContentFile(b"second"))
    assert first == name and second != name
    assert second.startswith("reports/2026/11/1-summary") and second.endswith(".xlsx")
    keys = _keys(s3)
    assert keys[f"countries/xa/{name}"] == b"first"
    assert keys[f"countries/xa/{second}"] == b"second"


def test_a_write_racing_another_for_the_same_key_takes_another_name(s3, country_a):
    """The bucket itself refuses the overwrite (If-None-Match): a key written by
    someone else between the storage's look and its write survives."""
    name = "reports/2026/11/7-detail.csv"
    s3.put_object(Bucket=BUCKET, Key=f"countries/xa/{name}", Body=b"the other writer")
    with schema_context(country_a.schema_name):
        # What Storage.save does after hearing the name was free.
        saved = default_storage._save(name, ContentFile(b"ours"))
    assert saved != name
    keys = _keys(s3)
    assert keys[f"countries/xa/{name}"] == b"the other writer"
    assert keys[f"countries/xa/{saved}"] == b"ours"


def test_the_storage_refuses_options_that_would_overwrite_or_move_files():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        CountryS3Storage(bucket_name=BUCKET, file_overwrite=True)
    with pytest.raises(ImproperlyConfigured):
        CountryS3Storage(bucket_name=BUCKET, location="shared")


def test_an_item_photo_is_stored_and_verified_in_its_countrys_prefix(s3, in_country_a):
    from stock.evidence import photo_check, photos_verify

    reg = make_register()
    content = image_bytes()
    item = register(reg, photos=[upload(content)])
    photo = item.photos.get()
    key = f"countries/xa/{photo.file.name}"
    stored = _keys(s3)
    assert stored[key] == content
    assert photo.sha256 == hashlib.sha256(content).hexdigest()
    assert f"countries/xa/{photo.thumbnail.name}" in stored
    assert not [k for k in stored if not k.startswith("countries/xa/items/")]
    assert photo_check(photo, rehash=True).ok
    assert [problem for _n, problem in photos_verify()] == [None]

    # Changed behind SMS's back (a new object under the key): no longer verifies.
    s3.put_object(Bucket=BUCKET, Key=key, Body=content + b"x")
    assert not photo_check(photo, rehash=True).ok


def test_on_disk_each_country_has_its_folder_and_nothing_is_overwritten(
    settings, tmp_path, country_a, country_b
):
    settings.MEDIA_ROOT = tmp_path / "media"
    storage = CountryFileSystemStorage()
    name = _report_one_name()
    with schema_context(country_a.schema_name):
        assert storage.save(name, ContentFile(b"A1")) == name
        again = storage.save(name, ContentFile(b"A2"))
    with schema_context(country_b.schema_name):
        assert storage.save(name, ContentFile(b"B1")) == name
    root = tmp_path / "media" / "countries"
    assert (root / "xa" / name).read_bytes() == b"A1"
    assert (root / "xa" / again).read_bytes() == b"A2" and again != name
    assert (root / "xb" / name).read_bytes() == b"B1"
    # Even asked to, it does not overwrite.
    with schema_context(country_b.schema_name):
        other = CountryFileSystemStorage(allow_overwrite=True).save(name, ContentFile(b"B2"))
    assert other != name and (root / "xb" / name).read_bytes() == b"B1"


def test_without_a_bucket_files_go_to_the_country_folders_on_disk():
    assert isinstance(storages["default"], CountryFileSystemStorage)


def test_a_countrys_files_are_listed_from_the_bucket_for_its_archive(s3, country_a, country_b):
    """export_country lists a country's files through the storage: in the
    bucket, exactly those under its own prefix."""
    from backups.services import media_names

    with schema_context(country_a.schema_name):
        for name in ("items/1/a.jpg", "items/1/thumbs/a.jpg", "reports/2026/11/1-s.csv"):
            default_storage.save(name, ContentFile(name.encode()))
    with schema_context(country_b.schema_name):
        default_storage.save("items/9/b.jpg", ContentFile(b"b"))
        assert media_names() == ["items/9/b.jpg"]
    with schema_context(country_a.schema_name):
        assert media_names() == ["items/1/a.jpg", "items/1/thumbs/a.jpg", "reports/2026/11/1-s.csv"]
