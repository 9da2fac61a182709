"""Celery tasks of the activities app: thin wrappers around the services (names used by prm.celery's beat schedule).
Safe to run twice or in parallel: each claims its work with a conditional UPDATE (activities/notify.py)."""

from celery import shared_task
from django.utils import timezone

from activities.services import activities_notify_due, activities_send_digests


@shared_task(name="activities.tasks.notify_due")
def notify_due() -> int:
    """Every 30 s: notify reminders that came due and calls/meetings about to start. Returns how many."""
    return activities_notify_due(now=timezone.now())


@shared_task(name="activities.tasks.send_digests")
def send_digests() -> int:
    """Every 5 minutes: the morning digests that came due (08:00 in each user's zone). Returns how many."""
    return activities_send_digests(now=timezone.now())
