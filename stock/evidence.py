"""Item photos as evidence (country schema).

- An original is checked against its recorded SHA-256 before a byte of it is
  served, and every night (``verify_evidence``); how that stays cheap on the
  item page is explained in core.fingerprints. A photo whose file no longer
  matches is never served as if it did: its views answer 409 with a page that
  says so, the item page shows the warning instead of the picture.
- The original file carries the camera's EXIF, often with the GPS position of
  the store. Only roles holding ``stock.view_original_photo`` get it (and see
  the position on the item page); everyone else who may see the item gets a
  re-encoded copy without metadata. Thumbnails carry no metadata either.
- Thumbnails and display copies are derived files: a missing one is rebuilt
  from the (verified) original. They are not fingerprinted themselves; they
  are only ever made from an original that matched.

Callers got ``photo`` through stock.selectors.photo_get (the user's scope).
"""

import io
from dataclasses import dataclass

from django.core.cache import cache
from django.core.files.base import ContentFile

from core import fingerprints

from .models import ItemPhoto
from .photos import derive_display_copy, derive_thumbnail, gps_position

ORIGINAL_PERMISSION = "stock.view_original_photo"
OK, MISMATCH, MISSING = fingerprints.OK, fingerprints.MISMATCH, fingerprints.MISSING


def may_see_original(user) -> bool:
    """Whether ``user`` gets original files (with their EXIF and GPS position)."""
    return user.has_perm(ORIGINAL_PERMISSION)


def _cache_key(photo: ItemPhoto) -> str:
    # The cache's key function adds the country's schema.
    return f"photo-fingerprint:{photo.pk}"


def photo_check(photo: ItemPhoto, *, rehash: bool = False) -> fingerprints.FileCheck:
    return fingerprints.check(
        photo.file, expected_sha256=photo.sha256, cache_key=_cache_key(photo), rehash=rehash
    )


def photo_open_original(photo: ItemPhoto):
    """(FileCheck, handle or None): the caller serves the handle only if the check is ok."""
    return fingerprints.open_checked(
        photo.file, expected_sha256=photo.sha256, cache_key=_cache_key(photo)
    )


def _original_bytes(photo: ItemPhoto) -> tuple[fingerprints.FileCheck, bytes | None]:
    result, handle = photo_open_original(photo)
    if handle is None:
        return result, None
    with handle:
        return result, (handle.read() if result.ok else None)


def _derived(photo: ItemPhoto, name: str, derive) -> tuple[fingerprints.FileCheck, object]:
    """(check of the original, open handle of the derived file or None).

    The original is checked first (cheap when remembered): nothing derived from
    a photo whose file no longer matches is served. A missing derived file is
    made again from the original."""
    storage = photo.file.storage
    result = photo_check(photo)
    if not result.ok:
        return result, None
    try:
        return result, storage.open(name, "rb")
    except (OSError, ValueError):
        pass
    result, content = _original_bytes(photo)
    if content is None:
        return result, None
    derived = derive(content)
    # Saved for the next request; a concurrent request may have saved it first
    # (the storage then picks another name): this one is served from memory.
    storage.save(name, ContentFile(derived))
    return result, io.BytesIO(derived)


def thumbnail_name(photo: ItemPhoto) -> str:
    return photo.thumbnail.name or f"items/{photo.item_id}/thumbs/{photo.pk}.jpg"


def display_copy_name(photo: ItemPhoto) -> str:
    return f"items/{photo.item_id}/display/{photo.pk}.jpg"


def photo_open_thumbnail(photo: ItemPhoto):
    """(FileCheck of the original, JPEG handle or None); rebuilt when missing."""
    return _derived(photo, thumbnail_name(photo), derive_thumbnail)


def photo_open_display_copy(photo: ItemPhoto):
    """(FileCheck of the original, JPEG handle or None): the original's pixels
    without its metadata, for people who may not see originals."""
    return _derived(photo, display_copy_name(photo), derive_display_copy)


def photo_position(photo: ItemPhoto) -> tuple[float, float] | None:
    """The GPS position in the original's EXIF (only for who may see originals)."""
    key = f"photo-position:{photo.pk}"
    remembered = cache.get(key)
    if remembered is not None:
        return tuple(remembered) if remembered else None
    try:
        with photo.file.storage.open(photo.file.name, "rb") as handle:
            position = gps_position(handle)
    except (OSError, ValueError):
        return None
    cache.set(key, list(position) if position else [], fingerprints.CACHE_SECONDS)
    return position


@dataclass(frozen=True)
class PhotoOnPage:
    photo: ItemPhoto
    check: fingerprints.FileCheck
    # Only filled in for people who may see originals.
    position: tuple[float, float] | None = None

    @property
    def ok(self) -> bool:
        return self.check.ok

    @property
    def missing(self) -> bool:
        return self.check.status == MISSING


def photos_for_page(photos, *, user) -> list[PhotoOnPage]:
    """Each photo of an item page with its file's state (and its position, if
    the user may see originals)."""
    originals = may_see_original(user)
    shown = []
    for photo in photos:
        result = photo_check(photo)
        position = photo_position(photo) if originals and result.ok else None
        shown.append(PhotoOnPage(photo=photo, check=result, position=position))
    return shown


@dataclass(frozen=True)
class PhotoProblem:
    photo: ItemPhoto
    check: fingerprints.FileCheck


def photos_verify(*, chunk_size: int = 500):
    """Hash every photo of the current country (no remembered verification).
    Yields (number checked so far, PhotoProblem or None) per photo."""
    queryset = ItemPhoto.objects.select_related("item").order_by("uploaded_at", "pk")
    for number, photo in enumerate(queryset.iterator(chunk_size=chunk_size), start=1):
        result = photo_check(photo, rehash=True)
        yield number, (None if result.ok else PhotoProblem(photo=photo, check=result))
