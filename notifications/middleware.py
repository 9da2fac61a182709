"""Each request runs in its user's time zone, so every time the pages show (``prm.formats``) and every date/time a
form reads is in that zone.

The zone's name is kept in the session (``SESSION_TIME_ZONE``): filled at login (``notifications.signals``) and when
the settings page saves, so a normal page request costs no query for it. A session that lacks it (one that began
before this middleware existed) reads it once and keeps it. Anonymous requests, and a name the server no longer knows,
run in the organisation's zone (``settings.TIME_ZONE``).
"""

from django.utils import timezone

from notifications.preferences import SESSION_TIME_ZONE, is_time_zone, time_zone_name_for, zone


class UserTimeZoneMiddleware:
    """After ``AuthenticationMiddleware``: activate the user's zone for the request, and deactivate it afterwards."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = self._zone_name(request)
        if name:
            timezone.activate(zone(name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    @staticmethod
    def _zone_name(request) -> str | None:
        session = getattr(request, "session", None)
        if session is None:
            return None
        # No session cookie: an anonymous visitor (or the calendar feed); reading the session would cost nothing,
        # but there is nothing to find either.
        if session.session_key is None:
            return None
        name = session.get(SESSION_TIME_ZONE)
        if name is None:
            user = getattr(request, "user", None)
            if user is None or not user.is_authenticated:
                return None
            name = time_zone_name_for(user=user)
            session[SESSION_TIME_ZONE] = name
        return name if is_time_zone(name) else None
