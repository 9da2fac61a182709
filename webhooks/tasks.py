"""Celery tasks of webhooks: thin wrappers around webhooks.services (names used by the outbox and by beat)."""

import time

from celery import shared_task

from webhooks.services import SEND_BATCH, deliveries_fan_out, deliveries_purge, deliveries_send_due

DELIVER_BUDGET_S = 60  # one task sends for at most about this long, then hands over to a new one


@shared_task(name="webhooks.tasks.webhooks_fan_out")
def webhooks_fan_out() -> dict:
    """Sent by the outbox after each commit that emitted events (settings.OUTBOX_CONSUMERS), and by beat: turn the
    waiting events into deliveries (set-based; safe twice or in parallel: the outbox's claim skips locked events)."""
    run = deliveries_fan_out()
    return {"events": run.events, "deliveries": run.deliveries}


@shared_task(name="webhooks.tasks.webhooks_deliver")
def webhooks_deliver() -> dict:
    """Send what is due, batch after batch, for about DELIVER_BUDGET_S; if full batches are still coming it enqueues
    itself again (so a backlog drains without waiting for beat, and other tasks get the worker in between). Enqueued
    after every fan-out, test event and "send again"; beat runs it every 10 s for the retries. Safe in parallel:
    each batch is claimed with a conditional UPDATE (SKIP LOCKED) under a lease."""
    started = time.monotonic()
    totals = {"claimed": 0, "delivered": 0, "retrying": 0, "dead": 0, "disabled": 0}
    while True:
        run = deliveries_send_due()
        for name in totals:
            totals[name] += getattr(run, name)
        if run.claimed < SEND_BATCH:
            break
        if time.monotonic() - started > DELIVER_BUDGET_S:
            webhooks_deliver.delay()
            break
    return totals


@shared_task(name="webhooks.tasks.webhooks_purge")
def webhooks_purge() -> int:
    """Daily: delete delivered and dead deliveries past WEBHOOK_LOG_RETENTION_DAYS."""
    return deliveries_purge()
