"""The portal's Celery tasks, one module per part (Celery's autodiscovery imports ``<app>.tasks``; importing the
parts here registers their tasks with every worker): invitations (people_tasks), deal reminders and protection
(deal_tasks), shared-lead deadlines (share_tasks)."""

from portal import deal_tasks, people_tasks, share_tasks  # noqa: F401 (imported to register their tasks)
