"""Checks and derivatives of item photos (country schema files).

A photo is accepted when it is a complete JPEG, PNG or WebP image, no larger
than settings.SMS_PHOTO_MAX_BYTES and with at most SMS_PHOTO_MAX_PIXELS
pixels (a decompression bomb is a small file that expands to a huge image).
The original bytes are kept untouched with their SHA-256; the thumbnail is a
JPEG derived after applying the EXIF orientation, so it shows the right way up.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
THUMBNAIL_SIZE = (480, 480)


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
    ) % {"pixels": f"{width}×{height}" if width else _("too many"), "limit": f"{limit:,}"}


def _thumbnail(image: Image.Image) -> bytes:
    oriented = ImageOps.exif_transpose(image)
    if oriented.mode not in ("RGB", "L"):
        background = Image.new("RGB", oriented.size, "white")
        rgba = oriented.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        oriented = background
    oriented.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    oriented.save(out, format="JPEG", quality=82, optimize=True)
    return out.getvalue()
