"""The custody ledger's signing keys (Ed25519): read from a file, never stored
in the database.

``SMS_LEDGER_SIGNING_KEY_FILE`` names a PEM file holding the deployment's
Ed25519 private key (``openssl genpkey -algorithm ed25519``). Production
refuses to start without it (sms_platform/settings.py); development creates
one under ``var/`` on first use.

Each country signs with its own key, derived from the deployment's key with
HKDF-SHA256 and the country's schema name (the lowercase ISO code):

- one file to keep and back up, whatever the number of countries;
- a country handed over to its government's own server can take its own key
  along without the key of any other country;
- a country's key (or its public key) says nothing about another's, and a
  signature made for one country never verifies in another.

Signatures are over a fixed context string plus the entry's hash (which
covers the entry's content and, through the previous hash, everything before
it), so a row rewritten and re-hashed by someone holding only the database
password no longer matches its signature.
"""

import base64
import hashlib
import os
import threading
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django_tenants.utils import get_public_schema_name

ENTRY_CONTEXT = b"sms-ledger-entry/1\n"
CHECKPOINT_CONTEXT = b"sms-ledger-checkpoint/1\n"
_DERIVATION_SALT = b"sms-ledger-signing"
_DERIVATION_INFO = b"sms-ledger-country-key/1\n"

_lock = threading.Lock()
_deployment_keys: dict[str, bytes] = {}  # key file path -> raw private key
_country_keys: dict[tuple[str, str], Ed25519PrivateKey] = {}


def key_file() -> Path:
    return Path(settings.SMS_LEDGER_SIGNING_KEY_FILE)


def generate_key_file(path: Path) -> bool:
    """Write a new deployment key to ``path`` (mode 0600) unless one is there;
    True if this call wrote it. Safe when several processes start at once (the
    file appears complete or not at all)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        os.link(partial, path)  # fails if the file exists: the first writer wins
        return True
    except FileExistsError:
        return False
    finally:
        partial.unlink(missing_ok=True)


def load_key_file(path: Path) -> bytes:
    """The raw Ed25519 private key in ``path``; ImproperlyConfigured, naming the
    setting, if it is missing or not such a key."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImproperlyConfigured(
            f"SMS_LEDGER_SIGNING_KEY_FILE={path}: the custody ledger's signing key can't be "
            f"read ({exc.strerror}). See README, 'The custody ledger'."
        ) from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"SMS_LEDGER_SIGNING_KEY_FILE={path} is not an unencrypted PEM private key."
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"SMS_LEDGER_SIGNING_KEY_FILE={path} is not an Ed25519 key.")
    return key.private_bytes_raw()


def key_made_at():
    """When the deployment's key file was made (its modification time, UTC),
    or None: entries written after it were signed when SMS wrote them."""
    import datetime

    try:
        stamp = key_file().stat().st_mtime
    except OSError:
        return None
    return datetime.datetime.fromtimestamp(stamp, tz=datetime.UTC)


def _deployment_key() -> bytes:
    path = key_file()
    name = str(path)
    with _lock:
        if name not in _deployment_keys:
            if not path.exists() and not settings.PRODUCTION:
                generate_key_file(path)
            _deployment_keys[name] = load_key_file(path)
        return _deployment_keys[name]


def forget_keys() -> None:
    """Read the key file again on next use (tests that change the setting)."""
    with _lock:
        _deployment_keys.clear()
        _country_keys.clear()


def _schema(schema_name: str | None) -> str:
    schema = schema_name or connection.schema_name
    if schema == get_public_schema_name():
        raise RuntimeError("the custody ledger lives in country schemas only")
    return schema


def country_private_key(schema_name: str | None = None) -> Ed25519PrivateKey:
    schema = _schema(schema_name)
    master = _deployment_key()
    cache_key = (str(key_file()), schema)
    with _lock:
        key = _country_keys.get(cache_key)
        if key is None:
            seed = HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=_DERIVATION_SALT,
                info=_DERIVATION_INFO + schema.encode(),
            ).derive(master)
            key = _country_keys[cache_key] = Ed25519PrivateKey.from_private_bytes(seed)
        return key


def public_key(schema_name: str | None = None) -> Ed25519PublicKey:
    return country_private_key(schema_name).public_key()


def public_key_text(key: Ed25519PublicKey | None = None) -> str:
    """The raw 32-byte public key in base64 (44 characters)."""
    return base64.b64encode((key or public_key()).public_bytes_raw()).decode("ascii")


def public_key_pem(key: Ed25519PublicKey | None = None) -> str:
    return (
        (key or public_key())
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def fingerprint(key: Ed25519PublicKey | None = None) -> str:
    """The first 128 bits of SHA-256 over the raw public key, as 8 groups of 4
    hex digits: short enough for a page footer, long enough to compare."""
    digest = hashlib.sha256((key or public_key()).public_bytes_raw()).hexdigest()[:32]
    return "-".join(digest[i : i + 4] for i in range(0, 32, 4))


def sign(context: bytes, text: str, *, schema_name: str | None = None) -> str:
    signature = country_private_key(schema_name).sign(context + text.encode("utf-8"))
    return base64.b64encode(signature).decode("ascii")


def valid(context: bytes, text: str, signature: str, *, key: Ed25519PublicKey) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, context + text.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return False
    return True


def sign_entry(entry_hash: str, *, schema_name: str | None = None) -> str:
    return sign(ENTRY_CONTEXT, entry_hash, schema_name=schema_name)


def entry_signature_valid(entry_hash: str, signature: str, *, key: Ed25519PublicKey) -> bool:
    return bool(signature) and valid(ENTRY_CONTEXT, entry_hash, signature, key=key)
