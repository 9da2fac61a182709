"""Celery tasks of deal registration: thin wrappers around portal.deal_services' set-based claims (names used by
prm.celery's beat schedule). Safe to run twice or in parallel: each claim is a conditional UPDATE … RETURNING."""

from celery import shared_task
from django.utils import timezone

from portal.deal_services import deals_expire, deals_notify_expiring, deals_remind_reviewers


@shared_task(name="portal.deal_tasks.remind_reviewers")
def remind_reviewers() -> int:
    """Hourly: remind reviewers of registrations waiting longer than DEAL_REVIEW_REMIND_DAYS days."""
    return deals_remind_reviewers(now=timezone.now())


@shared_task(name="portal.deal_tasks.protection_notices")
def protection_notices() -> dict:
    """Hourly: warn partners 14 and 3 days before a protection ends, then close the expired ones."""
    now = timezone.now()
    return {"notified": deals_notify_expiring(now=now), "expired": deals_expire(now=now)}
