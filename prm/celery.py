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
    "tag-inactive-partners-nightly": {
        "task": "business.tasks.tag_inactive_partners",
        "schedule": crontab(hour=2, minute=0),
    },
    "delete-expired-upload-previews-hourly": {
        "task": "business.tasks.delete_stale_uploads",
        "schedule": crontab(minute=30),
    },
}


@app.task(name="prm.ping")
def ping():
    """Round-trip check used by the test-suite and by ops (`celery -A prm call prm.ping`)."""
    return "pong"
