"""Enqueueing helpers shared by every app's services."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args, **kwargs):
    """Send ``task`` once the current transaction commits.

    A broker outage must not break, or hold up, the web request that changed the rows: the send gives up within
    about a second (the Celery section of prm/settings.py bounds every connection attempt to the broker and the
    result store), the error is logged and the nightly beat job catches up. With no REDIS_URL the message is a file in
    var/celery/queue/ (prm/filequeue.py) that `make run`'s worker picks up; CELERY_EAGER=True runs it in-process.
    """

    def send():
        try:
            task.delay(*args, **kwargs)
        except Exception:  # broker unreachable: the rows are committed, the periodic job will redo the work
            logger.exception("could not enqueue %s", task.name)

    transaction.on_commit(send)


def send_task_safely(name: str) -> None:
    """Send the Celery task registered as ``name`` now, tolerating a broker outage like ``enqueue_on_commit`` (logged;
    the task's beat tick catches up). By name, so a lower app can wake a higher one's task without importing it
    (the outbox wakes its consumers so). Runs it in-process under CELERY_EAGER, as ``delay`` would."""
    from prm.celery import app

    try:
        if app.conf.task_always_eager:
            app.tasks[name].delay()
        else:
            app.send_task(name)
    except Exception:  # broker unreachable (or, eager, the task failed): the committed rows wait for the next tick
        logger.exception("could not send %s", name)


def send_task_on_commit(name: str) -> None:
    """``send_task_safely(name)`` once the current transaction commits."""
    transaction.on_commit(lambda: send_task_safely(name))
