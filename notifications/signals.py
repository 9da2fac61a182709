"""Signal receivers of the notifications app (connected in ``NotificationsConfig.ready``)."""

from notifications.preferences import SESSION_TIME_ZONE, time_zone_name_for


def remember_time_zone(sender, request, user, **kwargs):
    """At login, keep the user's time zone in their new session (one query), for notifications.middleware."""
    session = getattr(request, "session", None)
    if session is not None and user is not None:
        session[SESSION_TIME_ZONE] = time_zone_name_for(user=user)
