"""Celery tasks of the portal's people: thin wrappers around ``portal.people_services`` (names used by prm.celery's
beat schedule). Safe to run twice or in parallel: each invitation is claimed before it is sent."""

from celery import shared_task

from portal.people_services import invitations_send_emails


@shared_task(name="portal.people_tasks.send_invitation_email")
def send_invitation_email(invitation_id: int) -> int:
    """Right after the commit that created the invitation: send its email. Returns how many were sent (0 or 1)."""
    return invitations_send_emails(ids=[invitation_id]).sent


@shared_task(name="portal.people_tasks.resend_invitations")
def resend_invitations() -> dict:
    """Every few minutes (beat): the invitations whose email has not left yet (SMTP or Redis was down, a worker
    died), up to INVITATION_MAX_EMAIL_ATTEMPTS tries each."""
    run = invitations_send_emails()
    return {"claimed": run.claimed, "sent": run.sent, "failed": run.failed}
