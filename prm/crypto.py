"""Secrets the app must use again (webhook signing secrets, CRM credentials, identity providers' client secrets and
authenticator keys) are stored encrypted, never in clear: Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``).

``keyring`` gives each purpose its own keys: every dedicated key (from the environment, at least ``MIN_KEY_CHARS``
characters) stretched by HKDF-SHA256 with the purpose as its info, then one derived the same way from ``SECRET_KEY``.
The first encrypts; all decrypt (``MultiFernet``), so a key is rotated by putting a new one first and re-encrypting.
The ``SECRET_KEY``-derived key always stays last, so moving from it to a dedicated key needs only a re-encrypt.
"""

import base64
from collections.abc import Sequence
from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MIN_KEY_CHARS = 32


def _derive(material: str, info: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material.encode())
    return Fernet(base64.urlsafe_b64encode(key))


@cache
def _keyring(info: bytes, keys: tuple[str, ...], setting: str, secret_key: str) -> MultiFernet:
    short = [index + 1 for index, key in enumerate(keys) if len(key) < MIN_KEY_CHARS]
    if short:
        raise ImproperlyConfigured(
            f"{setting}: key(s) number {', '.join(map(str, short))} are shorter than {MIN_KEY_CHARS} characters; "
            "make each with: python -c \"import secrets; print(secrets.token_urlsafe(32))\""
        )
    return MultiFernet([_derive(key, info) for key in keys] + [_derive(secret_key, info)])


def keyring(*, purpose: bytes, keys: Sequence[str] = (), setting: str = "") -> MultiFernet:
    """The keys of ``purpose`` (e.g. b"prm webhooks endpoint secret v1"): ``keys`` (the setting named ``setting``)
    first, the ``SECRET_KEY``-derived one last. Built once per configuration."""
    return _keyring(purpose, tuple(key for key in keys if key), setting, settings.SECRET_KEY)
