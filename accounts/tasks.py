"""Celery tasks of the accounts app: thin wrappers (accounts.views enqueues them after commit)."""

from celery import shared_task

from accounts.forms import ResetForm


@shared_task(name="accounts.tasks.send_password_reset")
def send_password_reset(email: str) -> None:
    """Email a reset link to each active user with a usable password whose address is ``email`` (any case); nobody
    else, and no trace of whether anyone was found."""
    form = ResetForm({"email": email})
    if form.is_valid():
        form.deliver()
