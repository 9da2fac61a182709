import pytest

from api.services import key_create


@pytest.fixture
def make_key():
    """make_key(owner, scopes=[...], **kwargs) -> (key, secret), through the service."""

    def make(owner, scopes=("partners:read",), name="Test key", **kwargs):
        return key_create(owner=owner, name=name, scopes=list(scopes), **kwargs)

    return make


@pytest.fixture
def bearer():
    def headers(secret):
        return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    return headers

