"""Does a stored evidence file still hold the bytes whose SHA-256 was recorded?

Item photos and report snapshots are stored with the SHA-256 of their bytes.
Before one is served, and every night for all of them (``verify_evidence``),
the file is checked against that fingerprint.

Why a remembered verification rather than hashing on every request: a photo
or a report may be tens of megabytes, and the item page shows several. Hashing
while streaming is no answer either — the mismatch would only be known once
the bytes had been sent as if they were genuine. So the file is checked
*before* anything is sent, and the result is remembered in the cache together
with the file's *signature*:

- on the local filesystem, the open file's (device, inode, size, mtime,
  ctime) in nanoseconds. Replacing the file (a new inode), writing into it
  (size, mtime, ctime) or touching it back to its old mtime (``touch -r``,
  ``os.utime``: ctime still moves, and no user call sets it) all change the
  signature, so the next request hashes the file again;
- on other storages (S3), the object's size and last-modified time (objects
  are never overwritten in place: a new object has a new time).

A request re-hashes only when the signature changed or the cache forgot it
(a new process with the local-memory cache, an expired entry). The signature
is taken from the very handle that is then served, so a file renamed over the
original after the check is not what gets sent. The nightly check never uses
the cache: it hashes every byte.
"""

import hashlib
import os
from dataclasses import dataclass

from django.core.cache import cache

OK = "ok"
MISMATCH = "mismatch"
MISSING = "missing"

CHUNK_BYTES = 1024 * 1024
# A verification is trusted this long while the signature is unchanged; the
# nightly check re-hashes everything anyway.
CACHE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class FileCheck:
    status: str
    expected_sha256: str
    actual_sha256: str = ""
    # Whether the bytes were hashed for this check (False: remembered verification).
    hashed: bool = False

    @property
    def ok(self) -> bool:
        return self.status == OK


def sha256_of(handle) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(CHUNK_BYTES):
        digest.update(chunk)
    return digest.hexdigest()


def _signature(file_field, handle) -> list | None:
    try:
        stat = os.fstat(handle.fileno())
    except (AttributeError, OSError, ValueError, TypeError):
        stat = None
    if stat is not None:
        return ["fs", stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]
    storage, name = file_field.storage, file_field.name
    try:
        return ["storage", storage.size(name), storage.get_modified_time(name).isoformat()]
    except (NotImplementedError, OSError, AttributeError, ValueError):
        return None  # no signature: hash every time


def open_checked(
    file_field, *, expected_sha256: str, cache_key: str | None = None, rehash: bool = False
):
    """(FileCheck, open binary handle positioned at 0 or None).

    The caller serves (or closes) the handle; it is None unless the file is
    there. ``cache_key`` None: always hash, remember nothing. ``rehash``: hash
    even if a verification is remembered, and remember the new one."""
    if not file_field or not file_field.name:
        return FileCheck(MISSING, expected_sha256), None
    try:
        handle = file_field.storage.open(file_field.name, "rb")
    except (OSError, ValueError):
        return FileCheck(MISSING, expected_sha256), None
    signature = _signature(file_field, handle) if cache_key else None
    remembered = cache.get(cache_key) if signature is not None and not rehash else None
    if remembered and remembered.get("signature") == signature:
        actual, hashed = remembered["sha256"], False
    else:
        try:
            actual, hashed = sha256_of(handle), True
            handle.seek(0)
        except OSError:
            handle.close()
            return FileCheck(MISSING, expected_sha256), None
        if signature is not None:
            cache.set(cache_key, {"signature": signature, "sha256": actual}, CACHE_SECONDS)
    status = OK if actual == expected_sha256 else MISMATCH
    return FileCheck(status, expected_sha256, actual, hashed), handle


def check(
    file_field, *, expected_sha256: str, cache_key: str | None = None, rehash: bool = False
) -> FileCheck:
    """Check without serving: the handle is closed."""
    result, handle = open_checked(
        file_field, expected_sha256=expected_sha256, cache_key=cache_key, rehash=rehash
    )
    if handle is not None:
        handle.close()
    return result


def forget(cache_key: str) -> None:
    cache.delete(cache_key)
