"""Connection credentials: stored encrypted (Fernet, from ``cryptography``), decrypted only to call the CRM.

Keys: ``INTEGRATIONS_SECRET_KEY`` (at least 32 characters) stretched by HKDF-SHA256 into a Fernet key; without it, a
key derived from ``SECRET_KEY`` (fine on a laptop; set the dedicated key in production so rotating SECRET_KEY does not
make the stored credentials unreadable — they would have to be entered again).
"""

import base64
import json
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MIN_KEY_CHARS = 32
_INFO = b"prm integrations credentials v1"


class CredentialsUnreadable(Exception):
    """Stored credentials that the configured key does not open."""


def _derive(material: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material.encode())
    return Fernet(base64.urlsafe_b64encode(key))


@cache
def _fernet(key: str, secret_key: str) -> MultiFernet:
    if key and len(key) < MIN_KEY_CHARS:
        raise ImproperlyConfigured(f"INTEGRATIONS_SECRET_KEY must be at least {MIN_KEY_CHARS} characters")
    return MultiFernet(([_derive(key)] if key else []) + [_derive(secret_key)])


def _keys() -> MultiFernet:
    return _fernet(settings.INTEGRATIONS_SECRET_KEY, settings.SECRET_KEY)


def encrypt(credentials: dict[str, str]) -> str:
    return _keys().encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    try:
        return json.loads(_keys().decrypt(token.encode()))
    except InvalidToken:
        raise CredentialsUnreadable(
            "the connection's credentials cannot be decrypted (INTEGRATIONS_SECRET_KEY / SECRET_KEY changed?): "
            "enter them again"
        ) from None
