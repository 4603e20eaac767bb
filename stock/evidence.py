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
- Thumbnails and display copies are derived files, only ever made from an
  original that matched. The SHA-256 of each is recorded when it is made
  (DerivedPhotoFile, append-only), signed with the country's ledger key, and
  checked before it is served and every night; one that is missing, does not
  match (a thumbnail swapped on disk) or whose record SMS did not sign (a row
  written with the database password) is made again from the verified
  original, never served as it is.

Callers got ``photo`` through stock.selectors.photo_get (the user's scope).
"""

import hashlib
import io
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.core.files.base import ContentFile

from core import fingerprints
from ledger import signing

from .models import DerivedPhotoFile, ItemPhoto
from .photos import derive_display_copy, derive_thumbnail, gps_position

ORIGINAL_PERMISSION = "stock.view_original_photo"
OK, MISMATCH, MISSING = fingerprints.OK, fingerprints.MISMATCH, fingerprints.MISSING
logger = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class StoredFile:
    """A file in the photos' storage, as core.fingerprints reads one."""

    storage: object
    name: str


def _derived_cache_key(photo: ItemPhoto, kind: str) -> str:
    return f"photo-derived-fingerprint:{photo.pk}:{kind}"


# What a derived file's record signs (ledger.signing: the country's key, kept
# outside the database).
DERIVED_CONTEXT = b"sms-derived-photo/1\n"
# Newest records looked at for one that SMS signed; past them, the file is made
# again from the original (rows inserted by hand cannot push a good one out
# of reach for long: the next one made is the newest).
DERIVED_LOOKED_AT = 5


def _derived_text(*, photo_id, kind: str, name: str, sha256: str) -> str:
    return f"{photo_id}\n{kind}\n{name}\n{sha256}"


def derived_latest(photo: ItemPhoto, kind: str) -> DerivedPhotoFile | None:
    """The newest record of ``photo``'s derived file of ``kind`` that SMS
    signed: the file to serve and the SHA-256 it must have. A record written
    around SMS (the database password is not the key) is passed over, as if
    absent: its file is never served on its word."""
    key = signing.public_key()
    records = DerivedPhotoFile.objects.filter(photo=photo, kind=kind).order_by("-made_at", "-id")
    for record in records[:DERIVED_LOOKED_AT]:
        text = _derived_text(
            photo_id=record.photo_id, kind=record.kind, name=record.name, sha256=record.sha256
        )
        if record.signature and signing.valid(DERIVED_CONTEXT, text, record.signature, key=key):
            return record
    return None


def derived_record(*, photo: ItemPhoto, kind: str, name: str, content: bytes) -> DerivedPhotoFile:
    """Record the SHA-256 of a derived file just written (append-only), signed."""
    sha256 = hashlib.sha256(content).hexdigest()
    text = _derived_text(photo_id=photo.pk, kind=kind, name=name, sha256=sha256)
    return DerivedPhotoFile.objects.create(
        photo=photo,
        kind=kind,
        name=name,
        sha256=sha256,
        signature=signing.sign(DERIVED_CONTEXT, text),
    )


def _derived_name(photo: ItemPhoto, kind: str) -> str:
    if kind == DerivedPhotoFile.Kind.THUMBNAIL:
        return photo.thumbnail.name or f"items/{photo.item_id}/thumbs/{photo.pk}.jpg"
    return f"items/{photo.item_id}/display/{photo.pk}.jpg"


def _derived(photo: ItemPhoto, kind: str, derive) -> tuple[fingerprints.FileCheck, object]:
    """(check of the original, open handle of the derived file or None).

    The original is checked first (cheap when remembered): nothing derived from
    a photo whose file no longer matches is served. The derived file is served
    only if its bytes match the SHA-256 recorded when it was made; one that is
    missing, does not match (swapped on disk) or was never recorded is made
    again from the verified original, recorded, and served."""
    storage = photo.file.storage
    result = photo_check(photo)
    if not result.ok:
        return result, None
    record = derived_latest(photo, kind)
    if record is not None:
        check, handle = fingerprints.open_checked(
            StoredFile(storage, record.name),
            expected_sha256=record.sha256,
            cache_key=_derived_cache_key(photo, kind),
        )
        if check.ok:
            return result, handle
        if handle is not None:
            handle.close()
        if check.status == MISMATCH:
            logger.warning(
                "The %s of photo %s (%s) does not match its recorded SHA-256: made again "
                "from the original",
                kind,
                photo.pk,
                record.name,
            )
    result, content = _original_bytes(photo)
    if content is None:
        return result, None
    derived = derive(content)
    # A new name every time (the storage adds a suffix when the name is taken):
    # a swapped file is left where it is, for whoever looks into it.
    name = storage.save(_derived_name(photo, kind), ContentFile(derived))
    derived_record(photo=photo, kind=kind, name=name, content=derived)
    return result, io.BytesIO(derived)


def photo_open_thumbnail(photo: ItemPhoto):
    """(FileCheck of the original, JPEG handle or None); checked against its
    recorded SHA-256, made again when missing or swapped."""
    return _derived(photo, DerivedPhotoFile.Kind.THUMBNAIL, derive_thumbnail)


def photo_open_display_copy(photo: ItemPhoto):
    """(FileCheck of the original, JPEG handle or None): the original's pixels
    without its metadata, for people who may not see originals; checked and
    made again as the thumbnail is."""
    return _derived(photo, DerivedPhotoFile.Kind.DISPLAY, derive_display_copy)


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
    # The derived file's record when the problem is with a derived file
    # (its thumbnail or display copy), None for the original.
    derived: DerivedPhotoFile | None = None


def photos_verify(*, chunk_size: int = 500):
    """Hash every photo of the current country and its recorded thumbnail and
    display copy (no remembered verification). Yields (number checked so far,
    PhotoProblem or None) per photo, and a PhotoProblem per derived file that
    does not match (it is made again from the original when next served)."""
    queryset = ItemPhoto.objects.select_related("item").order_by("uploaded_at", "pk")
    for number, photo in enumerate(queryset.iterator(chunk_size=chunk_size), start=1):
        result = photo_check(photo, rehash=True)
        yield number, (None if result.ok else PhotoProblem(photo=photo, check=result))
        for record in _derived_current(photo):
            check = fingerprints.check(
                StoredFile(photo.file.storage, record.name),
                expected_sha256=record.sha256,
                cache_key=_derived_cache_key(photo, record.kind),
                rehash=True,
            )
            if not check.ok:
                yield number, PhotoProblem(photo=photo, check=check, derived=record)


def _derived_current(photo: ItemPhoto) -> list[DerivedPhotoFile]:
    # The newest record of each kind: the files that would be served.
    return [
        record
        for kind in DerivedPhotoFile.Kind.values
        if (record := derived_latest(photo, kind)) is not None
    ]
