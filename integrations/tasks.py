"""Celery tasks of the CRM sync: thin wrappers around integrations.services (names used by beat and the outbox)."""

from celery import shared_task

from integrations import services


@shared_task(name="integrations.tasks.crm_pull_all")
def crm_pull_all() -> int:
    """Beat, every few minutes: pull each connection that is OK, idle and not backing off (each run claims its
    connection with a conditional UPDATE, so overlapping ticks or workers never run one connection twice)."""
    done = 0
    for connection_id in services.connections_due():
        if services.connection_pull(connection_id=connection_id).run is not None:
            done += 1
    return done


@shared_task(name="integrations.tasks.crm_push")
def crm_push() -> int:
    """Sent by the outbox after each commit that emitted events (settings.OUTBOX_CONSUMERS["crm"]), and by beat:
    push the changed records to the CRM. Safe twice or in parallel: the outbox's claim skips locked events."""
    return services.crm_push_pending()


@shared_task(name="integrations.tasks.crm_pull")
def crm_pull(connection_id: int) -> int | None:
    """"Sync now" on the connection's page: one pull (claimed like the beat's). Returns the run's id, or None."""
    run = services.connection_pull(connection_id=connection_id).run
    return run.pk if run else None
