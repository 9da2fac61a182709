import pytest

from tests import factories
from tests.webhooks.receiver import start_receiver
from webhooks.sender import Sender
from webhooks.services import endpoint_create


@pytest.fixture
def receiver():
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def allow_private(settings):
    """The tests' receiver is on 127.0.0.1: allow private targets, as an admin could."""
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    return settings


@pytest.fixture
def sender():
    with Sender(concurrency=8, timeout=5) as sender:
        yield sender


@pytest.fixture
def make_endpoint(allow_private, receiver):
    """make_endpoint(owner=None, url=None, events=()) -> (endpoint, secret); the receiver verifies with that secret."""

    def make(owner=None, url=None, events=(), description=""):
        owner = owner or factories.manager_user(username="hook-owner")
        endpoint, secret = endpoint_create(owner=owner, url=url or receiver.url, events=list(events),
                                           description=description)
        receiver.secrets.append(secret)
        return endpoint, secret

    return make
