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
