"""Photos: accepted formats, originals byte for byte, oriented thumbnails, refusals."""

import hashlib
import io

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from PIL import Image

from stock import services
from stock.models import ItemPhoto, StockItem
from tests.stock.conftest import image_bytes, register, upload

pytestmark = pytest.mark.django_db


def files_under(root):
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")],
)
def test_original_is_kept_byte_for_byte_with_its_sha256(reg, settings, fmt, content_type):
    content = image_bytes(fmt, size=(120, 90))
    item = register(reg, photos=[upload(content, name=f"tusk.{fmt.lower()}")])
    photo = item.photos.get()
    with photo.file.open("rb") as stored:
        stored_bytes = stored.read()
    assert stored_bytes == content
    assert photo.sha256 == hashlib.sha256(content).hexdigest()
    assert hashlib.sha256(stored_bytes).hexdigest() == photo.sha256
    assert (photo.content_type, photo.size_bytes) == (content_type, len(content))
    assert (photo.width, photo.height) == (120, 90)
    # Per-country storage, grouped by item.
    assert f"countries/xa/items/{item.pk}/" in photo.file.path.replace("\\", "/")


def test_thumbnail_follows_exif_orientation(reg):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    content = image_bytes("JPEG", size=(200, 100), exif=exif)
    item = register(reg, photos=[upload(content)])
    photo = item.photos.get()
    assert (photo.width, photo.height) == (200, 100)  # the original is untouched
    with photo.thumbnail.open("rb") as thumb:
        assert Image.open(thumb).size == (100, 200)


def test_two_photos_at_registration_and_one_added_later(reg):
    item = register(reg, photos=[upload(image_bytes()), upload(image_bytes("PNG"), "b.png")])
    services.photo_add(actor=reg.manager_x, item=item, upload=upload(image_bytes("WEBP"), "c"))
    assert item.photos.count() == 3


def _truncated():
    content = image_bytes("JPEG", size=(400, 300), color=(10, 200, 30))
    return content[: len(content) // 2]


def _gif():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (_gif(), "GIF"),
        (b"%PDF-1.4 not a photo at all", "not an image"),
        (_truncated(), "incomplete"),
        (image_bytes("PNG", size=(2000, 2000)), "decompression bomb"),
        (image_bytes("JPEG", size=(60, 60)) + b"\0" * 30_000, "MB"),
        (b"", "empty"),
    ],
    ids=["gif", "pdf", "truncated", "bomb", "too-big", "empty"],
)
def test_bad_photos_are_refused_with_the_reason_and_nothing_is_saved(reg, settings, content, words):
    settings.SMS_PHOTO_MAX_PIXELS = 1_000_000
    settings.SMS_PHOTO_MAX_BYTES = 20_000
    good = upload(image_bytes(), "good.jpg")
    with pytest.raises(ValidationError) as exc:
        register(reg, photos=[good, upload(content, "bad.bin")])
    messages = exc.value.message_dict["photos"]
    assert len(messages) == 1
    assert messages[0].startswith("bad.bin") and words in messages[0]
    assert not StockItem.objects.exists()
    assert not ItemPhoto.objects.exists()
    assert files_under(settings.MEDIA_ROOT) == []


def test_real_decompression_bomb_over_pillow_limit_is_refused(reg, settings):
    # A 9000x9000 single-colour PNG is tiny on disk but 81 million pixels.
    settings.SMS_PHOTO_MAX_PIXELS = 60_000_000
    out = io.BytesIO()
    Image.new("L", (9000, 9000)).save(out, format="PNG", optimize=True)
    assert len(out.getvalue()) < 200_000
    with pytest.raises(ValidationError) as exc:
        register(reg, photos=[upload(out.getvalue(), "bomb.png")])
    assert "decompression bomb" in exc.value.message_dict["photos"][0]
    assert not StockItem.objects.exists()


def test_photo_add_outside_scope_is_404_and_bad_photo_saves_nothing(reg, settings):
    item = register(reg)
    with pytest.raises(Http404):
        services.photo_add(actor=reg.manager_y, item=item, upload=upload(image_bytes()))
    with pytest.raises(ValidationError) as exc:
        services.photo_add(actor=reg.manager_x, item=item, upload=upload(_gif(), "x.gif"))
    assert "photos" in exc.value.message_dict
    assert not ItemPhoto.objects.exists()
    assert files_under(settings.MEDIA_ROOT) == []
