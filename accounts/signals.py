"""Every login (password or SSO) is recorded as a tracked session (accounts.services.session_record)."""

from accounts import services

LOGIN_METHOD_KEY = "prm_login_method"  # set in the session by accounts.adapter before an SSO login


def record_session(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    if request.session.session_key is None:
        request.session.save()
    services.session_record(
        user=user, session_key=request.session.session_key, ip_address=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        method=request.session.get(LOGIN_METHOD_KEY) or "password",
    )
