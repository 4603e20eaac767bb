"""Encryption of stored Central credentials (country schema rows, no tables here).

Fernet (AES-128-CBC + HMAC) with a key derived from
settings.SMS_FIELD_ENCRYPTION_KEY, so a database dump alone does not reveal
the Central password or an app user's token.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _fernet() -> Fernet:
    secret = settings.SMS_FIELD_ENCRYPTION_KEY
    if not secret:
        raise ImproperlyConfigured(
            "SMS_FIELD_ENCRYPTION_KEY is empty: set it in the environment to store "
            "ODK Central credentials."
        )
    # A domain-separated hash turns any length of secret into Fernet's 32-byte key.
    digest = hashlib.sha256(b"sms-odk-credentials:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored ODK credential cannot be decrypted: SMS_FIELD_ENCRYPTION_KEY changed. "
            "Enter the Central password again on the ODK page."
        ) from None
