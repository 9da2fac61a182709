"""Shared fixtures.

Every test runs on PostgreSQL (``DATABASE_URL``, or the embedded server of prm/embedded.py). Tests marked ``redis``
need a real Redis at ``REDIS_URL`` (``make test`` starts a private one when it is unset, see tests/with_redis.py);
without one they fail, never skip. Transactional tests (live server, concurrency, real worker) use
``serialized_rollback=True`` so the rows of the data migrations (tiers, roles, system parameters) are there for them
and for the tests after them.
"""

import os

import pytest
from django.conf import settings
from django.db import connection, connections

from tests import factories


def pytest_configure(config):
    # Tests create and log in hundreds of users: a fast hasher (as cookiecutter-django's test settings do) instead of
    # PBKDF2's 1,000,000 iterations, which took most of the suite's CPU.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config, items):
    if settings.REDIS_URL:
        return
    for item in items:
        if "redis" in item.keywords:
            item.add_marker(pytest.mark.usefixtures("_prm_fail_redis"))


@pytest.fixture
def _prm_fail_redis():
    pytest.fail("this test needs Redis but REDIS_URL is not set (run it through `make test`)")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """Keep serialized_rollback working once Playwright's event loop runs in the test thread.

    Django keeps the serialized data migrations' rows on the connection object. Playwright's sync API runs an event
    loop in this thread, after which Django's context-local ``connections`` hands out a new connection object without
    that attribute, so the restore would be skipped silently and later tests would find no tiers, roles or system
    parameters. Holding the snapshot on the connection class makes every connection object carry it.
    """
    for alias in connections:
        contents = getattr(connections[alias], "_test_serialized_contents", None)
        if contents is not None:
            type(connections[alias])._test_serialized_contents = contents
    yield


@pytest.fixture
def rep(db):
    return factories.rep_user(username="rep1")


@pytest.fixture
def other_rep(db):
    return factories.rep_user(username="rep2")


@pytest.fixture
def manager(db):
    return factories.manager_user(username="manager1")


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def celery_worker_process(transactional_db, settings):
    """A real ``celery worker`` process on the real Redis broker, using the test database.

    The test must write its rows committed (this fixture implies a transactional database) and should be marked
    ``@pytest.mark.redis`` and ``@pytest.mark.django_db(transaction=True, serialized_rollback=True)``.
    Yields the Celery app configured to send through the broker (not eagerly).
    """
    import subprocess
    import sys
    import time
    from urllib.parse import quote

    from prm.celery import app

    db = connection.settings_dict
    host = quote(db["HOST"] or "127.0.0.1", safe="")  # a Unix socket folder (embedded server) is percent-encoded
    port = f":{db['PORT']}" if db["PORT"] else ""
    database_url = f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'] or '')}@{host}{port}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": settings.REDIS_URL, "DEBUG": "True"}
    # Messages earlier tests left on the broker (every saved activity, lead or figure enqueues its partner's insight
    # evaluation after commit) belong to databases states that are gone: the worker would work through all of them
    # before it answered the ping below.
    app.control.purge()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "prm", "worker", "--pool=solo", "--concurrency=1", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"test-{os.getpid()}@%h"],
        env=env,
        cwd=str(settings.BASE_DIR),
    )
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        deadline = time.monotonic() + 30
        while True:
            if worker.poll() is not None:
                pytest.fail(f"celery worker exited with {worker.returncode}")
            try:
                if app.send_task("prm.ping").get(timeout=2) == "pong":
                    break
            except Exception:
                if time.monotonic() > deadline:
                    raise
        yield app
    finally:
        app.conf.task_always_eager = eager
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
