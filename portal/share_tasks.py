"""Celery tasks of the leads shared with partners: thin wrappers around ``portal.share_services`` (the beat entry
"shared-lead-deadlines" in prm/celery.py runs every 15 minutes). Safe to run twice or in parallel: each step claims its
rows with a conditional UPDATE … RETURNING."""

from celery import shared_task
from django.utils import timezone

from portal.share_services import shared_leads_expire, shared_leads_remind


@shared_task(name="portal.share_tasks.shared_lead_deadlines")
def shared_lead_deadlines() -> dict:
    """Expire the shares past a deadline (back to the rep), then remind those whose deadline is near."""
    now = timezone.now()
    expired = shared_leads_expire(now=now)
    reminded = shared_leads_remind(now=now)
    return {"expired": expired, "reminded": reminded}
