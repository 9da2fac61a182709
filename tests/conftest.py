"""Shared fixtures.

Tests marked ``postgres`` or ``redis`` need the real services. Locally, without DATABASE_URL/REDIS_URL, they are
skipped; with PRM_REQUIRE_SERVICES=1 (set by .ci/run) they run and fail if the service cannot be reached.
Transactional tests (live server, concurrency, real worker) use ``serialized_rollback=True`` so the rows of the data
migrations (tiers, roles, system parameters) are there for them and for the tests after them.
"""

import os

import pytest
from django.conf import settings
from django.db import connection, connections

from tests import factories

REQUIRE_SERVICES = os.environ.get("PRM_REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    has_redis = bool(settings.REDIS_URL)
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            if REQUIRE_SERVICES:
                item.add_marker(_fail_now("needs PostgreSQL but DATABASE_URL does not point at it"))
            else:
                item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "redis" in item.keywords and not has_redis:
            if REQUIRE_SERVICES:
                item.add_marker(_fail_now("needs Redis but REDIS_URL is not set"))
            else:
                item.add_marker(pytest.mark.skip(reason="needs Redis (set REDIS_URL)"))


def _fail_now(message):
    return pytest.mark.usefixtures("_prm_fail_" + ("pg" if "PostgreSQL" in message else "redis"))


@pytest.fixture
def _prm_fail_pg():
    pytest.fail("this test needs PostgreSQL but DATABASE_URL does not point at it (PRM_REQUIRE_SERVICES=1)")


@pytest.fixture
def _prm_fail_redis():
    pytest.fail("this test needs Redis but REDIS_URL is not set (PRM_REQUIRE_SERVICES=1)")


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
def on_postgres():
    return connection.vendor == "postgresql"


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

    from prm.celery import app

    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("celery_worker_process needs PostgreSQL (the worker is another process)")
    database_url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": settings.REDIS_URL, "DEBUG": "True"}
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
