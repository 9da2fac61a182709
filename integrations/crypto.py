"""Connection credentials: stored encrypted (Fernet, from ``cryptography``), decrypted only to call the CRM.

Keys: ``INTEGRATIONS_SECRET_KEY`` (at least 32 characters) stretched by HKDF-SHA256 into a Fernet key (prm.crypto.keyring); without it, a
key derived from ``SECRET_KEY`` (fine on a laptop; set the dedicated key in production so rotating SECRET_KEY does not
make the stored credentials unreadable — they would have to be entered again).
"""

import json

from cryptography.fernet import InvalidToken, MultiFernet
from django.conf import settings

from prm.crypto import keyring

_PURPOSE = b"prm integrations credentials v1"


class CredentialsUnreadable(Exception):
    """Stored credentials that the configured key does not open."""


def _keys() -> MultiFernet:
    return keyring(purpose=_PURPOSE, keys=[settings.INTEGRATIONS_SECRET_KEY], setting="INTEGRATIONS_SECRET_KEY")


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
