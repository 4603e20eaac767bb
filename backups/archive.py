"""The country archive's container: an encrypted tar stream (backups.crypto)
of the schema dump, the country's public rows, its media files and, last,
``manifest.json`` with the SHA-256 and size of every other member.

Reading decrypts, unpacks into a working folder and hashes each member as it
comes; the archive is accepted only if every member is exactly what the
manifest lists — nothing missing, nothing extra, every hash equal — before
anything is written to the database or the media store.
"""

import hashlib
import io
import json
import os
import tarfile
import time
from pathlib import Path, PurePosixPath

from django.utils.translation import gettext as _

from .crypto import ArchiveError, DecryptingReader, EncryptingWriter

FORMAT = "sms-country-archive/1"
MANIFEST = "manifest.json"
SCHEMA_DUMP = "schema.dump"
COUNTRY_ROWS = "country.json"
MEDIA = "media"


class _Hashing:
    """Reads from ``handle``, hashing and counting what passes."""

    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size=-1):
        data = self.handle.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


class ArchiveWriter:
    """Write members one by one; ``close(manifest)`` adds the manifest and
    only then gives the file its name (no half archive under the final name)."""

    def __init__(self, path: Path, *, encryption):
        self.path = Path(path)
        if self.path.exists():
            raise ArchiveError(_("%(path)s exists already: give a new file name.") % {"path": path})
        self._partial = self.path.with_name(f".{self.path.name}.partial")
        try:
            self._raw = open(self._partial, "xb")  # noqa: SIM115 - closed in close()/abort()
        except OSError as exc:
            raise ArchiveError(
                _("Can't write %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
            ) from exc
        os.chmod(self._partial, 0o600)
        self._encrypted = EncryptingWriter(self._raw, encryption)
        self._tar = tarfile.open(fileobj=self._encrypted, mode="w|", format=tarfile.PAX_FORMAT)
        self.files: dict[str, dict] = {}

    def _info(self, name: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mtime = int(time.time())
        info.mode = 0o600
        return info

    def add(self, name: str, handle, size: int) -> str:
        """Member ``name`` from an open binary ``handle`` of ``size`` bytes."""
        reader = _Hashing(handle)
        self._tar.addfile(self._info(name, size), reader)
        if reader.size != size:
            raise ArchiveError(_("%(name)s changed size while it was archived.") % {"name": name})
        sha256 = reader.digest.hexdigest()
        self.files[name] = {"sha256": sha256, "size": size}
        return sha256

    def add_path(self, name: str, path: Path) -> str:
        with open(path, "rb") as handle:
            return self.add(name, handle, os.fstat(handle.fileno()).st_size)

    def add_bytes(self, name: str, data: bytes) -> str:
        return self.add(name, io.BytesIO(data), len(data))

    def close(self, manifest: dict) -> dict:
        manifest = {**manifest, "format": FORMAT, "files": dict(sorted(self.files.items()))}
        data = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
        self._tar.addfile(self._info(MANIFEST, len(data)), io.BytesIO(data))
        self._tar.close()
        self._encrypted.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        os.replace(self._partial, self.path)
        return manifest

    def abort(self) -> None:
        try:
            self._raw.close()
        finally:
            self._partial.unlink(missing_ok=True)


def _safe_member_name(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or name != path.as_posix():
        raise ArchiveError(_("Unsafe file name in the archive: %(name)r") % {"name": name})
    return name


def unpack(path: Path, *, decryption, into: Path) -> dict:
    """Decrypt and unpack the archive at ``path`` into the folder ``into``,
    and return its manifest once every member has been checked against it."""
    into = Path(into)
    found: dict[str, dict] = {}
    manifest_bytes = None
    try:
        raw = open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise ArchiveError(
            _("Can't read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
        ) from exc
    with raw:
        reader = DecryptingReader(raw, decryption)
        try:
            tar = tarfile.open(fileobj=reader, mode="r|")
            for member in tar:
                name = _safe_member_name(member.name)
                if not member.isfile():
                    raise ArchiveError(
                        _("Unexpected entry in the archive: %(name)r") % {"name": name}
                    )
                if name in found or (name == MANIFEST and manifest_bytes is not None):
                    raise ArchiveError(_("%(name)s is twice in the archive.") % {"name": name})
                source = tar.extractfile(member)
                if name == MANIFEST:
                    manifest_bytes = source.read()
                    continue
                if manifest_bytes is not None:
                    raise ArchiveError(_("The archive has files after its manifest."))
                target = into / name
                target.parent.mkdir(parents=True, exist_ok=True)
                hashing = _Hashing(source)
                with open(target, "xb") as out:
                    while chunk := hashing.read(1024 * 1024):
                        out.write(chunk)
                found[name] = {"sha256": hashing.digest.hexdigest(), "size": hashing.size}
            tar.close()
        except tarfile.TarError as exc:
            raise ArchiveError(
                _("The archive's contents are damaged: %(error)s") % {"error": exc}
            ) from exc
        # Anything after the tar's end must still authenticate (and be empty).
        reader.read()
    if manifest_bytes is None:
        raise ArchiveError(_("The archive has no manifest."))
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError as exc:
        raise ArchiveError(_("The archive's manifest is not valid JSON.")) from exc
    if manifest.get("format") != FORMAT:
        raise ArchiveError(
            _("Unknown archive format %(format)r (this version reads %(ours)s).")
            % {"format": manifest.get("format"), "ours": FORMAT}
        )
    listed = manifest.get("files") or {}
    problems = []
    for name in sorted(set(listed) | set(found)):
        if name not in found:
            problems.append(_("%(name)s is listed in the manifest but missing") % {"name": name})
        elif name not in listed:
            problems.append(_("%(name)s is not listed in the manifest") % {"name": name})
        elif listed[name] != found[name]:
            problems.append(
                _("%(name)s does not match the manifest (SHA-256 %(actual)s, listed %(listed)s)")
                % {
                    "name": name,
                    "actual": found[name]["sha256"],
                    "listed": listed[name].get("sha256"),
                }
            )
    for name in (SCHEMA_DUMP, COUNTRY_ROWS):
        if name not in found:
            problems.append(_("%(name)s is missing") % {"name": name})
    if problems:
        raise ArchiveError(
            _("The archive does not match its manifest: %(problems)s")
            % {"problems": "; ".join(problems[:10])}
        )
    return manifest
