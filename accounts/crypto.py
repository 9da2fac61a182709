"""Secrets we must use again (an identity provider's client secret, an authenticator app's key) are kept encrypted,
never in clear: Fernet with a key derived from SECRET_KEY (prm.crypto.keyring), so a database dump alone does not
reveal them. Changing SECRET_KEY makes stored secrets unreadable: enter them again in the admin.
"""

from cryptography.fernet import InvalidToken, MultiFernet

from prm.crypto import keyring

_PURPOSE = b"prm accounts secrets v1"


def _fernet() -> MultiFernet:
    return keyring(purpose=_PURPOSE)


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
