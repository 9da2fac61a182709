"""Endpoint secrets: made here, stored encrypted, decrypted only to sign a delivery.

A secret is ``whsec_`` + base64 of 32 random bytes (the Standard Webhooks format: the receiver's library
base64-decodes what follows ``whsec_`` and uses those bytes as the HMAC key). It must be stored reversibly — every
delivery signs with it — so it is encrypted, never hashed: Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``)
with keys from the environment (prm.crypto.keyring).

Keys: each entry of ``WEBHOOK_SECRET_KEYS`` (comma-separated, at least 32 characters each) is stretched by HKDF-SHA256
into a Fernet key; the first encrypts, all decrypt (``MultiFernet``), so a key is rotated by putting a new one first
and running ``manage.py webhooks_reencrypt``. Without it, one key derived from ``SECRET_KEY`` is used — fine on a
laptop; in production set ``WEBHOOK_SECRET_KEYS`` so rotating ``SECRET_KEY`` (sessions, signed links) does not make
the stored secrets unreadable. The ``SECRET_KEY``-derived key always stays last for decrypting, so switching to a
dedicated key needs only the re-encrypt command.
"""

import base64
import secrets

from cryptography.fernet import InvalidToken, MultiFernet
from django.conf import settings

from prm.crypto import keyring

SECRET_PREFIX = "whsec_"  # noqa: S105 (the convention's fixed start, not a secret)
SECRET_BYTES = 32
_PURPOSE = b"prm webhooks endpoint secret v1"


class SecretUnreadable(Exception):
    """A stored secret that none of the configured keys opens (the key it was encrypted with is gone)."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def fernet() -> MultiFernet:
    return keyring(purpose=_PURPOSE, keys=settings.WEBHOOK_SECRET_KEYS, setting="WEBHOOK_SECRET_KEYS")


def encrypt(secret: str) -> str:
    return fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "the endpoint's secret cannot be decrypted with the configured keys (WEBHOOK_SECRET_KEYS / SECRET_KEY "
            "changed?): rotate the endpoint's secret"
        ) from None


def reencrypt(token: str) -> str:
    """``token`` encrypted again under the first key (SecretUnreadable when no key opens it)."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("no configured key opens this secret") from None
