"""Celery tasks of the API: thin wrappers around api.services (names used by prm.celery's beat schedule)."""

from celery import shared_task

from api.services import idempotency_purge


@shared_task(name="api.tasks.purge_idempotency_records")
def purge_idempotency_records() -> int:
    """Hourly: delete stored answers of idempotent writes older than settings.IDEMPOTENCY_HOURS. Returns how many."""
    return idempotency_purge()
