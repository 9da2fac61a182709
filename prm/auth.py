"""Signing in with an email address whatever its case.

Partner users' usernames are their email addresses, stored lower-cased (``portal.people_services``); people type them
as they like ("Nora@Acme.example"). Django's ModelBackend matches usernames exactly, so a username holding an "@" is
tried as typed, then lower-cased. django-axes counts failed logins per username through ``axes_username`` (the same
normalisation), so changing the case of an address does not get around its lockout.
"""

from django.contrib.auth.backends import ModelBackend


def _email_like(username: object) -> bool:
    return isinstance(username, str) and "@" in username


class EmailCaseBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and _email_like(username) and username.strip().lower() != username:
            user = super().authenticate(request, username=username.strip().lower(), password=password, **kwargs)
        return user


def axes_username(request, credentials: dict | None) -> str | None:
    """The username django-axes counts failures under: an email address lower-cased, anything else as typed."""
    username = (credentials or {}).get("username")
    if username is None and request is not None:
        username = request.POST.get("username")
    return username.strip().lower() if _email_like(username) else username
