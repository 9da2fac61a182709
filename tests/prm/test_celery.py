import pytest

from prm.celery import app, ping


def test_ping_runs_eagerly_in_process_without_a_broker():
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        assert ping.delay().get(timeout=5) == "pong"
    finally:
        app.conf.task_always_eager = eager


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_round_trip_through_real_broker_and_worker(celery_worker_process):
    # The worker is a separate OS process; the task goes through Redis and the result comes back through Redis.
    result = celery_worker_process.send_task("prm.ping")
    assert result.get(timeout=20) == "pong"
