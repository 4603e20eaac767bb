"""Encryption of country archives: streamed, in chunks, never the whole
archive in memory.

The file starts with a line naming the format and a line of JSON (the
header: how the key is obtained); then records of a 4-byte length and one
AES-256-GCM chunk of at most 1 MiB of plaintext. Each chunk's nonce is its
number (11 bytes) and a last-chunk flag (1 byte) — so chunks can't be
reordered, dropped or the file cut short unseen — and the header is the
associated data of every chunk, so it can't be changed either (the "STREAM"
construction that age and Tink use).

The 256-bit key comes from either
- a passphrase: scrypt (n=2^17, r=8, p=1) with a random salt; or
- a recipient's X25519 public key: an ephemeral X25519 key agreement, then
  HKDF-SHA256 (ECIES). Only the holder of the matching private key decrypts.

The header also carries a key check (16 bytes of SHA-256 over the key), so a
wrong passphrase or key is told apart from a damaged file.
"""

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.utils.translation import gettext as _

MAGIC = b"SMS-COUNTRY-ARCHIVE/1\n"
CHUNK_BYTES = 1024 * 1024
TAG_BYTES = 16
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
MIN_PASSPHRASE = 12
_HKDF_INFO = b"sms-country-archive/1 x25519"
_CHECK_CONTEXT = b"sms-country-archive/1 key check\n"


class ArchiveError(Exception):
    """An archive that can't be read or is not what it claims (message says why)."""


class WrongKey(ArchiveError):
    pass


class Damaged(ArchiveError):
    pass


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _key_check(key: bytes) -> str:
    return hashlib.sha256(_CHECK_CONTEXT + key).hexdigest()[:32]


def _scrypt(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def public_key_fingerprint(key: X25519PublicKey) -> str:
    digest = hashlib.sha256(key.public_bytes_raw()).hexdigest()[:32]
    return "-".join(digest[i : i + 4] for i in range(0, 32, 4))


def _hkdf(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient, info=_HKDF_INFO
    ).derive(shared)


@dataclass(frozen=True)
class Passphrase:
    """Encrypt or decrypt with a passphrase."""

    text: str

    def validate_for_encryption(self) -> None:
        if len(self.text) < MIN_PASSPHRASE:
            raise ArchiveError(
                _("The passphrase must have at least %(n)s characters.") % {"n": MIN_PASSPHRASE}
            )

    def new_key(self) -> tuple[bytes, dict]:
        self.validate_for_encryption()
        salt = os.urandom(16)
        key = _scrypt(self.text, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        header = {
            "method": "passphrase",
            "kdf": {"name": "scrypt", "salt": _b64(salt), "n": SCRYPT_N, "r": SCRYPT_R},
        }
        header["kdf"]["p"] = SCRYPT_P
        return key, header

    def key_for(self, header: dict) -> bytes:
        if header.get("method") != "passphrase":
            raise WrongKey(
                _("This archive was encrypted for a public key: give the private key (--identity).")
            )
        kdf = header["kdf"]
        n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
        if kdf.get("name") != "scrypt" or n > 2**20 or r > 16 or p > 4:
            raise Damaged(_("The archive's header names an unknown key derivation."))
        return _scrypt(self.text, _unb64(kdf["salt"]), n, r, p)


@dataclass(frozen=True)
class Recipient:
    """Encrypt for the holder of an X25519 private key."""

    public_key: X25519PublicKey

    @classmethod
    def from_file(cls, path: Path) -> "Recipient":
        try:
            key = serialization.load_pem_public_key(Path(path).read_bytes())
        except (OSError, ValueError) as exc:
            raise ArchiveError(
                _("%(path)s is not a readable PEM public key: %(error)s")
                % {"path": path, "error": exc}
            ) from exc
        if not isinstance(key, X25519PublicKey):
            raise ArchiveError(_("%(path)s is not an X25519 public key.") % {"path": path})
        return cls(key)

    def new_key(self) -> tuple[bytes, dict]:
        ephemeral = X25519PrivateKey.generate()
        ephemeral_raw = ephemeral.public_key().public_bytes_raw()
        recipient_raw = self.public_key.public_bytes_raw()
        key = _hkdf(ephemeral.exchange(self.public_key), ephemeral_raw, recipient_raw)
        header = {
            "method": "x25519",
            "ephemeral_public_key": _b64(ephemeral_raw),
            "recipient": public_key_fingerprint(self.public_key),
        }
        return key, header


@dataclass(frozen=True)
class Identity:
    """Decrypt with the X25519 private key an archive was encrypted for."""

    private_key: X25519PrivateKey

    @classmethod
    def from_file(cls, path: Path) -> "Identity":
        try:
            key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise ArchiveError(
                _("%(path)s is not a readable, unencrypted PEM private key: %(error)s")
                % {"path": path, "error": exc}
            ) from exc
        if not isinstance(key, X25519PrivateKey):
            raise ArchiveError(_("%(path)s is not an X25519 private key.") % {"path": path})
        return cls(key)

    def key_for(self, header: dict) -> bytes:
        if header.get("method") != "x25519":
            raise WrongKey(
                _("This archive was encrypted with a passphrase: give it (--passphrase-file).")
            )
        public = self.private_key.public_key()
        if header.get("recipient") != public_key_fingerprint(public):
            raise WrongKey(
                _(
                    "This archive was encrypted for another key (fingerprint %(theirs)s), "
                    "not for this one (%(ours)s)."
                )
                % {"theirs": header.get("recipient"), "ours": public_key_fingerprint(public)}
            )
        ephemeral_raw = _unb64(header["ephemeral_public_key"])
        ephemeral = X25519PublicKey.from_public_bytes(ephemeral_raw)
        return _hkdf(self.private_key.exchange(ephemeral), ephemeral_raw, public.public_bytes_raw())


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """A write-only file object: what is written comes out encrypted in ``raw``."""

    def __init__(self, raw, encryption):
        key, header = encryption.new_key()
        header.update({"cipher": "AES-256-GCM", "chunk_bytes": CHUNK_BYTES})
        header["key_check"] = _key_check(key)
        self._header = MAGIC + json.dumps(header, sort_keys=True).encode("ascii") + b"\n"
        self._raw = raw
        self._aead = AESGCM(key)
        self._buffer = bytearray()
        self._counter = 0
        self._raw.write(self._header)

    def _emit(self, data: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._counter, last), bytes(data), self._header)
        self._raw.write(struct.pack(">I", len(sealed)) + sealed)
        self._counter += 1

    def write(self, data) -> int:
        self._buffer += data
        # Keep at least one byte back: the last chunk is only known at close().
        while len(self._buffer) > CHUNK_BYTES:
            self._emit(self._buffer[:CHUNK_BYTES], last=False)
            del self._buffer[:CHUNK_BYTES]
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self._emit(self._buffer, last=True)
        self._buffer = bytearray()


def read_header(raw) -> tuple[bytes, dict]:
    magic = raw.readline(64)
    if magic != MAGIC:
        raise Damaged(_("This is not an SMS country archive (or it is damaged at its start)."))
    line = raw.readline(4096)
    try:
        header = json.loads(line)
    except ValueError as exc:
        raise Damaged(_("The archive's header is damaged.")) from exc
    return magic + line, header


class DecryptingReader:
    """A read-only file object over an encrypted archive; every chunk is
    authenticated before a byte of it is handed out."""

    def __init__(self, raw, decryption):
        self._raw = raw
        self._aad, header = read_header(raw)
        try:
            key = decryption.key_for(header)
        except (KeyError, ValueError, TypeError) as exc:
            raise Damaged(_("The archive's header is damaged.")) from exc
        if header.get("cipher") != "AES-256-GCM":
            raise Damaged(_("The archive's header names an unknown cipher."))
        if _key_check(key) != header.get("key_check"):
            if isinstance(decryption, Passphrase):
                raise WrongKey(_("Wrong passphrase: this archive can't be decrypted with it."))
            raise WrongKey(_("Wrong key: this archive can't be decrypted with it."))
        self._aead = AESGCM(key)
        self._counter = 0
        self._buffer, self._pos = b"", 0
        self._next_length = self._read_length()
        self._done = False

    def _read_length(self) -> int | None:
        data = self._raw.read(4)
        if not data:
            return None
        if len(data) < 4:
            raise Damaged(_("The archive is cut short."))
        return struct.unpack(">I", data)[0]

    def _next_chunk(self) -> bytes:
        length = self._next_length
        if length is None:
            if not self._done:
                raise Damaged(_("The archive is cut short."))
            return b""
        if length > CHUNK_BYTES + TAG_BYTES:
            raise Damaged(_("The archive is damaged (chunk %(n)s).") % {"n": self._counter})
        sealed = self._raw.read(length)
        if len(sealed) < length:
            raise Damaged(_("The archive is cut short."))
        self._next_length = self._read_length()
        last = self._next_length is None
        try:
            plain = self._aead.decrypt(_nonce(self._counter, last), sealed, self._aad)
        except InvalidTag as exc:
            raise Damaged(
                _("The archive is damaged or was altered (chunk %(n)s does not authenticate).")
                % {"n": self._counter}
            ) from exc
        self._counter += 1
        self._done = last
        return plain

    def read(self, size: int = -1) -> bytes:
        parts, wanted = [], size
        while wanted != 0:
            if self._pos >= len(self._buffer):
                if self._done and self._next_length is None:
                    break
                self._buffer, self._pos = self._next_chunk(), 0
                continue
            end = len(self._buffer) if wanted < 0 else min(len(self._buffer), self._pos + wanted)
            parts.append(self._buffer[self._pos : end])
            if wanted > 0:
                wanted -= end - self._pos
            self._pos = end
        return b"".join(parts)

    def at_end(self) -> bool:
        return self._done and self._next_length is None and self._pos >= len(self._buffer)
