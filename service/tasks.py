"""Celery tasks of the service app: thin wrappers around the services (names used by prm.celery's beat schedule).
Safe to run twice or in parallel: the claim is a conditional UPDATE (service/breach.py)."""

from celery import shared_task
from django.utils import timezone

from service.services import tickets_notify_breaches


@shared_task(name="service.tasks.notify_breaches")
def notify_breaches() -> int:
    """Every minute: notify the tickets that passed a service-level due date. Returns how many notifications."""
    return tickets_notify_breaches(now=timezone.now())
