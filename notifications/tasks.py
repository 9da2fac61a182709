"""Celery tasks of the notifications app: thin wrappers around the services (names used by prm.celery's beat)."""

from celery import shared_task

from notifications.services import EMAIL_BATCH, notifications_send_pending_emails


@shared_task(name="notifications.tasks.send_pending_emails")
def send_pending_emails() -> dict:
    """Send the pending notification emails, batch after batch while full batches come back (bounded). Safe to run
    twice or in parallel: each batch is claimed with a conditional UPDATE. Enqueued after the commit that created
    them, and every minute by beat (retries, and rows a crashed worker left in 'sending')."""
    totals = {"claimed": 0, "sent": 0, "failed": 0}
    for _ in range(50):
        run = notifications_send_pending_emails()
        totals["claimed"] += run.claimed
        totals["sent"] += run.sent
        totals["failed"] += run.failed
        if run.claimed < EMAIL_BATCH or run.failed:  # nothing more, or the mail server is failing: wait for the next run
            break
    return totals
