"""Photos as evidence: a file swapped on disk is never served as the photo, a
missing thumbnail is rebuilt, originals (with their GPS position) only for
roles given that right, derived images without metadata."""

import hashlib
import io
import os

import pytest
from django.core.cache import cache
from django.urls import reverse
from PIL import ExifTags, Image

from accounts.roles import AUDITOR
from core import fingerprints
from stock import evidence
from tests.factories import make_user
from tests.stock.conftest import image_bytes, register, upload

pytestmark = pytest.mark.django_db

# Nairobi: 1°17'30" S, 36°49'12" E.
GPS = {1: "S", 2: (1.0, 17.0, 30.0), 3: "E", 4: (36.0, 49.0, 12.0)}


def gps_jpeg(color=(200, 180, 150)) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = GPS
    exif[0x010F] = "Field camera"  # Make
    out = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def client_for(client, host_a):
    def login(user):
        client.force_login(user)
        client.defaults["HTTP_HOST"] = host_a
        return client

    return login


@pytest.fixture
def auditor(reg):
    return make_user(role=AUDITOR, all_sites=True)


@pytest.fixture
def photo(reg):
    item = register(reg, photos=[upload(gps_jpeg())])
    return item.photos.get()


def swap_on_disk(path, *, keep_size_and_mtime=True):
    """What someone with access to the disk does: other bytes, same size, the
    old modification time put back."""
    stat = os.stat(path)
    content = bytearray(open(path, "rb").read())
    content[-10] ^= 0xFF  # one byte near the end: still the same size
    with open(path, "wb") as handle:
        handle.write(bytes(content))
    if keep_size_and_mtime:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.stat(path).st_size == stat.st_size


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_swapped_photo_is_caught_even_after_it_was_verified_and_its_mtime_put_back(
    reg, photo, auditor, client_for
):
    client = client_for(auditor)
    url = reverse("stock:photo_original", args=[photo.pk])
    assert hashlib.sha256(body(client.get(url))).hexdigest() == photo.sha256
    # Verified once: the next check trusts the remembered result (no re-hash).
    assert evidence.photo_check(photo).hashed is False

    swap_on_disk(photo.file.path)

    check = evidence.photo_check(photo)
    assert check.status == evidence.MISMATCH and check.hashed
    response = client.get(url)
    assert response.status_code == 409
    page = response.content.decode()
    assert "does not match its recorded fingerprint" in page
    assert photo.sha256 in page and check.actual_sha256 in page
    assert response["Content-Type"].startswith("text/html")
    # Nothing derived from it is served either.
    thumb = client.get(reverse("stock:photo_thumbnail", args=[photo.pk]))
    assert thumb.status_code == 409
    item_page = client.get(f"/items/{photo.item_id}/").content.decode()
    assert "does not match its recorded fingerprint" in item_page
    assert reverse("stock:photo_thumbnail", args=[photo.pk]) not in item_page
    assert check.actual_sha256 in item_page


def test_swapped_photo_is_caught_for_people_who_get_the_copy(reg, photo, client_for):
    swap_on_disk(photo.file.path)
    client = client_for(reg.manager_x)
    response = client.get(reverse("stock:photo_original", args=[photo.pk]))
    assert response.status_code == 409
    assert "does not match its recorded fingerprint" in response.content.decode()


def test_a_mismatching_photo_of_another_store_is_still_404(reg, photo, client_for):
    swap_on_disk(photo.file.path)
    client = client_for(reg.manager_y)
    for name in ("stock:photo_original", "stock:photo_thumbnail"):
        response = client.get(reverse(name, args=[photo.pk]))
        assert response.status_code == 404
        assert "fingerprint" not in response.content.decode()


def test_a_missing_original_is_said_not_a_500(reg, photo, auditor, client_for):
    os.remove(photo.file.path)
    os.remove(photo.thumbnail.path)
    client = client_for(auditor)
    response = client.get(reverse("stock:photo_original", args=[photo.pk]))
    assert response.status_code == 404
    assert "file is missing" in response.content.decode()
    assert client.get(reverse("stock:photo_thumbnail", args=[photo.pk])).status_code == 404
    assert "file is missing" in client.get(f"/items/{photo.item_id}/").content.decode()


def test_a_missing_thumbnail_is_rebuilt_from_the_original(reg, photo, client_for):
    with photo.thumbnail.open("rb") as handle:
        before = handle.read()
    os.remove(photo.thumbnail.path)
    client = client_for(reg.manager_x)
    response = client.get(reverse("stock:photo_thumbnail", args=[photo.pk]))
    assert response.status_code == 200
    rebuilt = body(response)
    assert Image.open(io.BytesIO(rebuilt)).size == Image.open(io.BytesIO(before)).size
    # Stored again under its recorded name, for the next request.
    assert os.path.exists(photo.thumbnail.path)
    assert client.get(reverse("stock:photo_thumbnail", args=[photo.pk])).status_code == 200


def test_original_with_gps_only_for_roles_given_the_right(reg, photo, auditor, client_for):
    url = reverse("stock:photo_original", args=[photo.pk])
    # The auditor holds stock.view_original_photo: the file byte for byte,
    # and the position on the item page.
    client = client_for(auditor)
    original = body(client.get(url))
    assert hashlib.sha256(original).hexdigest() == photo.sha256
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    page = client.get(f"/items/{photo.item_id}/").content.decode()
    assert "latitude -1.291667, longitude 36.820000" in page

    # A store manager sees the item, not the original: a re-encoded copy
    # without any EXIF, and no position on the page.
    assert not reg.manager_x.has_perm(evidence.ORIGINAL_PERMISSION)
    client = client_for(reg.manager_x)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    copy = Image.open(io.BytesIO(body(response)))
    assert copy.size == (320, 240)
    assert dict(copy.getexif()) == {}
    page = client.get(f"/items/{photo.item_id}/").content.decode()
    assert "latitude" not in page and "-1.29" not in page
    assert "copy without the camera" in page


def test_thumbnails_carry_no_exif(reg, photo, client_for):
    thumb = body(client_for(reg.manager_x).get(reverse("stock:photo_thumbnail", args=[photo.pk])))
    image = Image.open(io.BytesIO(thumb))
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info and "comment" not in image.info


def test_fingerprint_cache_follows_the_file_not_the_clock(reg, photo):
    key = "test-fingerprint"
    cache.delete(key)
    first = fingerprints.check(photo.file, expected_sha256=photo.sha256, cache_key=key)
    second = fingerprints.check(photo.file, expected_sha256=photo.sha256, cache_key=key)
    assert (first.ok, first.hashed, second.ok, second.hashed) == (True, True, True, False)
    # Same bytes written again (a new inode or a new ctime): hashed again, still ok.
    content = open(photo.file.path, "rb").read()
    os.replace(photo.file.path, photo.file.path + ".old")
    open(photo.file.path, "wb").write(content)
    third = fingerprints.check(photo.file, expected_sha256=photo.sha256, cache_key=key)
    assert third.ok and third.hashed
    # No cache key: always hashed.
    assert fingerprints.check(photo.file, expected_sha256=photo.sha256).hashed


def test_photos_verify_names_each_bad_photo(reg):
    good = register(reg, photos=[upload(image_bytes())]).photos.get()
    bad = register(reg, photos=[upload(image_bytes(color=(1, 2, 3)))]).photos.get()
    gone = register(reg, photos=[upload(image_bytes(color=(9, 9, 9)))]).photos.get()
    swap_on_disk(bad.file.path)
    os.remove(gone.file.path)
    results = list(evidence.photos_verify())
    assert results[-1][0] == 3
    problems = {p.photo.pk: p.check.status for _n, p in results if p is not None}
    assert problems == {bad.pk: evidence.MISMATCH, gone.pk: evidence.MISSING}
    assert good.pk not in problems


# --- Derived files (thumbnail, display copy) are fingerprinted too -----------------------


def other_jpeg(size) -> bytes:
    """What an attacker puts in place of a derived file: a valid picture of
    something else."""
    out = io.BytesIO()
    Image.new("RGB", size, (255, 0, 0)).save(out, "JPEG")
    return out.getvalue()


def replace_file(path, content: bytes) -> None:
    stat = os.stat(path)
    with open(path, "wb") as handle:
        handle.write(content)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_a_swapped_thumbnail_of_an_intact_original_is_never_served(reg, photo, client_for):
    from stock.models import DerivedPhotoFile
    from stock.photos import derive_thumbnail

    url = reverse("stock:photo_thumbnail", args=[photo.pk])
    client = client_for(reg.manager_x)
    genuine = body(client.get(url))  # served once: its check is remembered
    (record,) = DerivedPhotoFile.objects.filter(photo=photo)
    assert (record.kind, record.name) == ("thumbnail", photo.thumbnail.name)
    assert record.sha256 == hashlib.sha256(genuine).hexdigest()

    fake = other_jpeg((64, 48))
    replace_file(photo.thumbnail.path, fake)

    # The nightly check names it before anyone asks for it.
    problems = [p for _n, p in evidence.photos_verify() if p is not None]
    assert [(p.derived.kind, p.check.status) for p in problems] == [("thumbnail", "mismatch")]

    served = body(client.get(url))
    assert served != fake
    with photo.file.open("rb") as handle:
        assert served == derive_thumbnail(handle.read())
    # Made again from the original, under a new name, and recorded; the
    # swapped file is left as it was found.
    latest = evidence.derived_latest(photo, "thumbnail")
    assert latest.pk != record.pk and latest.name != record.name
    assert latest.sha256 == hashlib.sha256(served).hexdigest()
    assert open(photo.thumbnail.path, "rb").read() == fake
    assert body(client.get(url)) == served
    assert [p for _n, p in evidence.photos_verify() if p is not None] == []


def test_a_record_written_with_the_database_password_cannot_vouch_for_a_swap(
    reg, photo, client_for
):
    # The application's login may INSERT derived-file records (append-only):
    # a swapped thumbnail with a fresh record of its own SHA-256, dated in the
    # future to be the newest, is still not served — the record carries no
    # signature SMS made, so the file is made again from the original.
    import datetime

    from django.db import connection
    from django.utils import timezone

    from stock.photos import derive_thumbnail

    url = reverse("stock:photo_thumbnail", args=[photo.pk])
    client = client_for(reg.manager_x)
    body(client.get(url))
    fake = other_jpeg((64, 48))
    replace_file(photo.thumbnail.path, fake)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO stock_derivedphotofile (photo_id, kind, name, sha256, made_at, signature)"
            " VALUES (%s, 'thumbnail', %s, %s, %s, '')",
            [
                photo.pk,
                photo.thumbnail.name,
                hashlib.sha256(fake).hexdigest(),
                timezone.now() + datetime.timedelta(days=365),
            ],
        )
    served = body(client.get(url))
    assert served != fake
    with photo.file.open("rb") as handle:
        assert served == derive_thumbnail(handle.read())
    assert evidence.derived_latest(photo, "thumbnail").signature


def test_a_swapped_display_copy_is_made_again_from_the_original(reg, photo, client_for):
    # The store manager gets the display copy (no EXIF), made on first request.
    url = reverse("stock:photo_original", args=[photo.pk])
    client = client_for(reg.manager_x)
    genuine = body(client.get(url))
    record = evidence.derived_latest(photo, "display")
    assert record.sha256 == hashlib.sha256(genuine).hexdigest()
    path = photo.file.storage.path(record.name)
    fake = other_jpeg((320, 240))
    replace_file(path, fake)
    served = body(client.get(url))
    assert served == genuine and served != fake


def test_nothing_derived_is_served_when_the_original_itself_fails(reg, photo, client_for):
    client = client_for(reg.manager_x)
    body(client.get(reverse("stock:photo_thumbnail", args=[photo.pk])))
    replace_file(photo.thumbnail.path, other_jpeg((64, 48)))
    swap_on_disk(photo.file.path)
    for name in ("stock:photo_thumbnail", "stock:photo_original"):
        assert client.get(reverse(name, args=[photo.pk])).status_code == 409, name


def test_verify_evidence_names_a_swapped_thumbnail(reg, photo):
    from io import StringIO

    from django.core.management import CommandError, call_command
    from django.db import connection

    replace_file(photo.thumbnail.path, other_jpeg((64, 48)))
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_evidence", "--country", "XA", stdout=out)
    connection.set_schema("xa")
    assert (
        f"The thumbnail of photo {photo.pk} of item {photo.item.sms_number} "
        f"({photo.thumbnail.name}): the file does not match its recorded SHA-256"
    ) in out.getvalue()


def test_a_transfer_document_never_prints_a_swapped_thumbnail(reg, photo):
    # The manifest and receipt PDFs put each item's thumbnail beside it: the
    # same check as the item page, not the file as it lies on disk.
    from custody.documents import _thumbnail
    from stock.models import StockItem

    replace_file(photo.thumbnail.path, other_jpeg((64, 48)))  # a red picture
    item = StockItem.objects.prefetch_related("photos").get(pk=photo.item_id)
    # The pixels reportlab would print: the photo's (200, 180, 150), not red.
    red, green, blue = _thumbnail(item)._img.getRGBData()[:3]
    assert abs(red - 200) < 12 and abs(green - 180) < 12 and abs(blue - 150) < 12

    swap_on_disk(photo.file.path)  # the original itself no longer matches: no picture
    item = StockItem.objects.prefetch_related("photos").get(pk=photo.item_id)
    assert _thumbnail(item) == ""
