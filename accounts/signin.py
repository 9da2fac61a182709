"""The end of every sign-in, password or SSO: the second factor when the user has an authenticator app, then Django's
``login``; staff whom the policy requires an app but who have none are sent to set one up (and kept there by
accounts.middleware, which reads only the session)."""

import time

from django.contrib.auth import get_user_model, login
from django.contrib.auth.models import AbstractBaseUser
from django.shortcuts import redirect

from accounts import selectors
from accounts.signals import LOGIN_METHOD_KEY

SESSION_BACKEND = "prm.auth.EmailCaseBackend"
PENDING_KEY = "prm_2fa_pending"  # {"user", "method", "next", "at", "tries"}: password/SSO done, code not yet
ENROL_KEY = "prm_totp_enrol"  # signed in, must set up an authenticator app before anything else
PENDING_SECONDS = 300
MAX_TRIES = 5


def finish_sign_in(request, user: AbstractBaseUser, *, method: str, next_url: str):
    """The response that ends a successful first factor (the caller checked ``next_url`` is ours)."""
    if selectors.totp_enabled(user):
        request.session[PENDING_KEY] = {"user": user.pk, "method": method, "next": next_url, "at": int(time.time()),
                                        "tries": 0}
        return redirect("login_code")
    return _login(request, user, method=method, next_url=next_url)


def _login(request, user, *, method: str, next_url: str, has_totp: bool = False):
    request.session[LOGIN_METHOD_KEY] = method
    login(request, user, backend=SESSION_BACKEND)
    if not has_totp and selectors.totp_required(user):
        request.session[ENROL_KEY] = True
        return redirect("account_two_factor")
    return redirect(next_url)


def pending(request) -> dict | None:
    data = request.session.get(PENDING_KEY)
    if not data or time.time() - data.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    return data


def finish_second_factor(request, data: dict):
    request.session.pop(PENDING_KEY, None)
    user = get_user_model().objects.filter(pk=data["user"], is_active=True).first()
    if user is None:
        return redirect("login")
    return _login(request, user, method=data["method"], next_url=data["next"], has_totp=True)
