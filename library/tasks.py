"""The library's Celery tasks (Celery's autodiscovery imports ``<app>.tasks``): the onboarding stall reminders."""

from library import onboarding_tasks  # noqa: F401 (imported to register its tasks)
