"""Celery tasks of onboarding: thin wrappers around ``library.onboarding_services`` (names used by prm.celery's beat
schedule). Safe to run twice or in parallel: the claim is a conditional UPDATE … RETURNING."""

from celery import shared_task
from django.utils import timezone

from library.onboarding_services import REMIND_BATCH, progress_remind_stalled

MAX_BATCHES = 40  # at most 200,000 reminders a run; the rest wait for the next hour


@shared_task(name="library.onboarding_tasks.remind_stalled")
def remind_stalled() -> int:
    """Hourly: remind the users whose onboarding track has stalled (once per stall), batch after batch (each its own
    transaction) until none is left. Returns how many."""
    now, total = timezone.now(), 0
    for _ in range(MAX_BATCHES):
        claimed = progress_remind_stalled(now=now)
        total += claimed
        if claimed < REMIND_BATCH:
            break
    return total
