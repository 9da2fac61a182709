"""Celery application, configured from Django settings (CELERY_* names); beat schedule defined here in code."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")

app = Celery("prm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "compute-business-metrics-nightly": {
        "task": "business.tasks.compute_business_metrics",
        "schedule": crontab(hour=1, minute=15),
    },
    "evaluate-insights-nightly": {  # after the metrics (01:15): insights read the generated values
        "task": "insights.tasks.evaluate_insights",
        "schedule": crontab(hour=1, minute=45),
    },
    "refresh-team-figures-nightly": {  # after the metrics (01:15): the team dashboard's attainment and movers
        "task": "insights.tasks.refresh_team_figures",
        "schedule": crontab(hour=1, minute=50),
    },
    "tag-inactive-partners-nightly": {
        "task": "business.tasks.tag_inactive_partners",
        "schedule": crontab(hour=2, minute=0),
    },
    # Stored answers of idempotent API writes (issue 16) past their 24 h: one DELETE on the created_at index.
    "purge-idempotency-records-hourly": {
        "task": "api.tasks.purge_idempotency_records",
        "schedule": crontab(minute=40),
    },
    # The outbox (issue 16): delivered events past OUTBOX_EVENT_RETENTION_DAYS, tombstones past their 90 days.
    "purge-outbox-daily": {
        "task": "outbox.tasks.outbox_purge",
        "schedule": crontab(hour=3, minute=20),
    },
    "delete-expired-upload-previews-hourly": {
        "task": "business.tasks.delete_stale_uploads",
        "schedule": crontab(minute=30),
    },
    # Notifications (issue 11). Each task claims its work with a conditional UPDATE, so overlapping or repeated runs
    # are harmless; "expires" drops ticks that waited in the queue longer than their period (a worker that was down
    # runs one tick, not a backlog). The emails of a tick are also enqueued right after its commit.
    "notify-due-activities": {
        "task": "activities.tasks.notify_due",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "send-notification-emails": {
        "task": "notifications.tasks.send_pending_emails",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "send-morning-digests": {
        "task": "activities.tasks.send_digests",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 280},
    },
    # Service tickets past a service-level due date (issue 13): one conditional UPDATE per kind (service/breach.py).
    "notify-ticket-breaches": {
        "task": "service.tasks.notify_breaches",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Deal registrations (portal, issue 14): reviews waiting too long, protection notices (14 and 3 days) and expiry;
    # claims by conditional UPDATE (portal/deal_services.py), so a repeated tick does nothing new.
    "deal-review-reminders": {
        "task": "portal.deal_tasks.remind_reviewers",
        "schedule": crontab(minute=5),
        "options": {"expires": 3000},
    },
    "deal-protection-notices": {
        "task": "portal.deal_tasks.protection_notices",
        "schedule": crontab(minute=10),
        "options": {"expires": 3000},
    },
    # Partner portal invitations (issue 14) whose email has not left yet: claimed row by row (portal.people_services).
    "resend-portal-invitations": {
        "task": "portal.people_tasks.resend_invitations",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 280},
    },
    # Leads shared with partners (issue 14): reminders before each deadline, then expiry of missed ones (back to the
    # rep); each a conditional UPDATE … RETURNING (portal.share_services), so a repeated run does nothing new.
    "shared-lead-deadlines": {
        "task": "portal.share_tasks.shared_lead_deadlines",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 840},
    },
    # Onboarding tracks idle for their stall_days (issue 15): a friendly reminder, once per stall, claimed by a
    # conditional UPDATE … RETURNING (library.onboarding_services.progress_remind_stalled).
    "onboarding-stall-reminders": {
        "task": "library.onboarding_tasks.remind_stalled",
        "schedule": crontab(minute=20),
        "options": {"expires": 3300},
    },
    # Webhooks (issue 16): send what is due — the retries — every 10 s (a conditional UPDATE claims each batch under a
    # lease, so overlapping ticks share the work), and turn events the outbox could not hand over (broker down) into
    # deliveries every minute.
    "webhooks-deliver": {
        "task": "webhooks.tasks.webhooks_deliver",
        "schedule": 10.0,
        "options": {"expires": 9},
    },
    # CRM sync (issue 17): pull every connection that is OK, idle and past its backoff (each run claims its connection
    # with a conditional UPDATE: one run at a time per connection); push what the outbox still holds for "crm".
    "crm-pull": {
        "task": "integrations.tasks.crm_pull_all",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 280},
    },
    "crm-push": {
        "task": "integrations.tasks.crm_push",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "webhooks-fan-out": {
        "task": "webhooks.tasks.webhooks_fan_out",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "webhooks-purge-daily": {  # delivered and dead deliveries past WEBHOOK_LOG_RETENTION_DAYS
        "task": "webhooks.tasks.webhooks_purge",
        "schedule": crontab(hour=3, minute=40),
    },
}


@app.task(name="prm.ping")
def ping():
    """Round-trip check used by the test-suite and by ops (`celery -A prm call prm.ping`)."""
    return "pong"
