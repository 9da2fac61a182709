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
}


@app.task(name="prm.ping")
def ping():
    """Round-trip check used by the test-suite and by ops (`celery -A prm call prm.ping`)."""
    return "pong"
