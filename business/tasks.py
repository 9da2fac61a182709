"""Celery tasks of the business app: thin wrappers around the services (names used by prm.celery's beat schedule)."""

from celery import shared_task

from business.imports.uploads import uploads_delete_stale
from business.metrics import metrics_compute_recent
from business.services import partners_tag_inactive


@shared_task(name="business.tasks.compute_business_metrics")
def compute_business_metrics():
    """Nightly: generated values of the current and previous period for every partner. Returns a summary."""
    result = metrics_compute_recent()
    return {"written": result.written, "zeroed": result.zeroed, "skipped": result.skipped}


@shared_task(name="business.tasks.tag_inactive_partners")
def tag_inactive_partners():
    """Nightly: apply the inactivity rules. Returns the counts."""
    result = partners_tag_inactive()
    return {"deactivated": result.deactivated, "reactivated": result.reactivated}


@shared_task(name="business.tasks.delete_stale_uploads")
def delete_stale_uploads() -> int:
    """Hourly: delete previewed upload files never confirmed (older than CONFIRM_MAX_AGE). Returns how many."""
    return uploads_delete_stale()
