"""Celery tasks of the outbox: thin wrappers around outbox.services (names used by prm.celery's beat schedule)."""

from celery import shared_task

from outbox.services import outbox_purge as _outbox_purge


@shared_task(name="outbox.tasks.outbox_purge")
def outbox_purge() -> int:
    """Daily: delete delivered events past their retention and old tombstones. Returns how many rows went."""
    return _outbox_purge()
