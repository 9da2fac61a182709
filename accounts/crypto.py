"""Secrets we must use again (an identity provider's client secret) are kept encrypted, never in clear.

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with a key derived from SECRET_KEY, so a database dump alone
does not reveal them. Changing SECRET_KEY makes stored secrets unreadable: enter them again in the admin.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"prm.accounts.secret:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(value: str) -> str:
    """The clear text, or "" when empty or unreadable (SECRET_KEY changed)."""
    if not value:
        return ""
    try:
        return _fernet().decrypt(value.encode()).decode()
    except InvalidToken:
        return ""
