"""Fixtures of the SSO tests: a real OpenID Connect provider (tests/accounts/idp.py) started on 127.0.0.1 for the
session — the tests FAIL (never skip) when it cannot start — and identity providers configured through the service."""

import pytest

from accounts import services
from accounts.models import IdentityProvider
from tests.accounts.idp import start_idp
from tests.smtp import smtp_server  # noqa: F401 (fixture for this directory's tests)


def pytest_configure(config):
    # oidc-provider-mock calls Authlib APIs that Authlib has deprecated (get_jwt_config, authlib.jose): not ours to fix.
    for line in ("ignore:get_jwt_config:DeprecationWarning", "ignore:authlib.jose module is deprecated",
                 "ignore:The httpx module is deprecated"):
        config.addinivalue_line("filterwarnings", line)


CLIENT_ID = "prm-test-client"
CLIENT_SECRET = "prm-test-secret"  # noqa: S105


@pytest.fixture(scope="session")
def oidc_server():
    try:
        idp, stop = start_idp()
    except Exception as error:  # noqa: BLE001
        pytest.fail(f"the test OpenID Connect provider could not start: {error!r}")
    yield idp
    stop()


@pytest.fixture
def idp(oidc_server):
    oidc_server.tamper = None
    oidc_server.discovery_changes = {}
    oidc_server.token_requests.clear()
    yield oidc_server
    oidc_server.tamper = None
    oidc_server.discovery_changes = {}


def make_provider(idp_server, **fields) -> IdentityProvider:
    values = {"slug": "corp", "name": "Corp ID", "issuer": idp_server.url, "client_id": CLIENT_ID,
              "audience": IdentityProvider.Audience.STAFF, "jit_enabled": False, "default_role": "rep",
              "group_roles": {"prm-managers": "manager", "prm-sales": "rep"}}
    values.update(fields)
    return services.identity_provider_save(idp=IdentityProvider(**values), client_secret=CLIENT_SECRET)


@pytest.fixture
def corp(db, idp):
    return make_provider(idp)


@pytest.fixture
def reset_worker():
    """Runs the reset email task in this process as it is queued (the web answers first; a worker sends)."""
    from prm.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


def ask_reset(client, email):
    """POST the reset form and run what it queued after commit (the lookup and the email)."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/accounts/password-reset/", {"email": email})
