"""Checks and derivatives of item photos (country schema files).

A photo is accepted when it is a complete JPEG, PNG or WebP image, no larger
than settings.SMS_PHOTO_MAX_BYTES and with at most SMS_PHOTO_MAX_PIXELS
pixels (a decompression bomb is a small file that expands to a huge image).
The original bytes are kept untouched with their SHA-256; the thumbnail is a
JPEG derived after applying the EXIF orientation, so it shows the right way up.

Derived images (the thumbnail, and the display copy shown to people who may
not see originals) carry no metadata: no EXIF (so no GPS position, camera
serial or time), no XMP, no comment. Only the pixels are re-encoded.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from core import display

ACCEPTED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
THUMBNAIL_SIZE = (480, 480)
# Large enough to examine a piece on a screen, small enough to re-encode quickly.
DISPLAY_SIZE = (2560, 2560)


class PhotoRefused(ValueError):
    """The upload is not an acceptable photo; str() is the message for the user."""


@dataclass(frozen=True)
class CheckedPhoto:
    content: bytes
    sha256: str
    size_bytes: int
    content_type: str
    width: int
    height: int
    thumbnail: bytes
    extension: str
    original_name: str


def _read(upload) -> bytes:
    limit = settings.SMS_PHOTO_MAX_BYTES
    if isinstance(upload, bytes | bytearray):
        upload = io.BytesIO(bytes(upload))
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise PhotoRefused(_too_big(size, limit))
    if hasattr(upload, "seek"):
        upload.seek(0)
    if hasattr(upload, "chunks"):
        content = b"".join(upload.chunks())
    else:
        content = upload.read()
    if len(content) > limit:
        raise PhotoRefused(_too_big(len(content), limit))
    if not content:
        raise PhotoRefused(_("The file is empty."))
    return content


def _too_big(size: int, limit: int) -> str:
    return _("The file is %(size).1f MB; photos may be at most %(limit).1f MB.") % {
        "size": size / 1024 / 1024,
        "limit": limit / 1024 / 1024,
    }


def check_photo(upload) -> CheckedPhoto:
    """Check ``upload`` (a Django UploadedFile, any file-like object, or bytes)."""
    content = _read(upload)
    max_pixels = settings.SMS_PHOTO_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it: make it fail.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content))
            image_format = image.format
            if image_format not in ACCEPTED:
                raise PhotoRefused(
                    _("Only JPEG, PNG and WebP photos are accepted; this file is %(format)s.")
                    % {"format": image_format or _("of an unknown type")}
                )
            width, height = image.size
            if width * height > max_pixels:
                raise PhotoRefused(_bomb(width, height, max_pixels))
            # Decoding every pixel is what reveals a truncated file.
            image.load()
            thumbnail = _thumbnail(image)
    except PhotoRefused:
        raise
    except UnidentifiedImageError:
        raise PhotoRefused(
            _("This file is not an image; only JPEG, PNG and WebP photos are accepted.")
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused(_bomb(0, 0, max_pixels)) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise PhotoRefused(
            _("The image is damaged or incomplete (%(error)s); please send it again.")
            % {"error": exc}
        ) from None
    return CheckedPhoto(
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        content_type=ACCEPTED[image_format],
        width=width,
        height=height,
        thumbnail=thumbnail,
        extension={"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[image_format],
        original_name=str(getattr(upload, "name", "") or ""),
    )


def _bomb(width: int, height: int, limit: int) -> str:
    return _(
        "The image is too large in pixels (%(pixels)s; at most %(limit)s): it may be a "
        "decompression bomb."
    ) % {"pixels": f"{width}×{height}" if width else _("too many"), "limit": display.count(limit)}


def _thumbnail(image: Image.Image) -> bytes:
    return _derived(image, THUMBNAIL_SIZE, quality=82)


def _derived(image: Image.Image, size: tuple[int, int], *, quality: int) -> bytes:
    """A JPEG of ``image``'s pixels, upright, at most ``size``, with no metadata."""
    oriented = ImageOps.exif_transpose(image)
    if oriented.mode not in ("RGB", "L"):
        background = Image.new("RGB", oriented.size, "white")
        rgba = oriented.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        oriented = background
    oriented.thumbnail(size)
    # Pillow writes EXIF and XMP only when asked, but carries a JPEG comment
    # over from the source: start from no metadata at all.
    oriented.info = {}
    out = io.BytesIO()
    oriented.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


def derive_thumbnail(content: bytes) -> bytes:
    """The thumbnail of an original that was already accepted (and verified)."""
    with Image.open(io.BytesIO(content)) as image:
        return _derived(image, THUMBNAIL_SIZE, quality=82)


def derive_display_copy(content: bytes) -> bytes:
    """A re-encoded copy of an original, without its metadata (GPS position)."""
    with Image.open(io.BytesIO(content)) as image:
        return _derived(image, DISPLAY_SIZE, quality=90)


def _degrees(value, ref) -> float | None:
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    if str(ref).strip().upper() in ("S", "W"):
        result = -result
    return round(result, 6)


def gps_position(handle) -> tuple[float, float] | None:
    """(latitude, longitude) in decimal degrees from the photo's EXIF, or None.
    Reads only the file's header."""
    try:
        with Image.open(handle) as image:
            gps = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError):
        return None
    tags = ExifTags.GPS
    if tags.GPSLatitude not in gps or tags.GPSLongitude not in gps:
        return None
    latitude = _degrees(gps[tags.GPSLatitude], gps.get(tags.GPSLatitudeRef, "N"))
    longitude = _degrees(gps[tags.GPSLongitude], gps.get(tags.GPSLongitudeRef, "E"))
    if latitude is None or longitude is None:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return latitude, longitude
