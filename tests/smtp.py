"""A real SMTP server (aiosmtpd) on 127.0.0.1 for tests, and a port where nothing listens. Import the fixtures:
``from tests.smtp import smtp_server  # noqa: F401`` (tests/notifications/conftest.py does for its directory)."""

import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """aiosmtpd handler keeping every message it receives (parsed), with its envelope recipients."""

    def __init__(self):
        self.messages = []
        self.peers = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        self.peers.append(session.peer)  # the client's (host, port): one per SMTP connection
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server in a thread of this process; Django's SMTP backend pointed at it. Yields its Mailbox."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "", ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "PRM <prm@example.com>"
    settings.SITE_URL = "https://prm.example.com"
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def refused_smtp(settings):
    """Django's SMTP backend pointed at a port of 127.0.0.1 where nothing listens: a real refused connection."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "", ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
