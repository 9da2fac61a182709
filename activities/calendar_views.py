"""Calendars: a user's private feed (``/calendar/<token>.ics``, no login: the token is the secret) and one scheduled
activity's ``.ics`` download from the partner or customer page.

The feed answers a wrong, revoked or inactive user's token with the same 404 body, so the answer tells nobody whether
a user or a token exists. Its queries are constant: the token (with the user), the visibility check, the events.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseNotFound
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from activities.calendar import calendar_activity_of_subject, calendar_build, calendar_feed_activities
from activities.subjects import subject_get_for_user
from notifications.preferences import user_for_calendar_token

CONTENT_TYPE = "text/calendar; charset=utf-8"
NOT_FOUND = b"Not found.\n"


def site_base_url(request) -> str:
    """The app's address for links in calendars: ``settings.SITE_URL`` when set, else what the request came to."""
    return getattr(settings, "SITE_URL", "") or request.build_absolute_uri("/")


@never_cache
@require_http_methods(["GET", "HEAD"])
def calendar_feed(request, token):
    """The user's scheduled calls and meetings as a calendar to subscribe to. Queries: 1 token → user, 1 visibility
    check (none for a superuser), 1 events."""
    user = user_for_calendar_token(token=token)
    if user is None:
        return HttpResponseNotFound(NOT_FOUND, content_type="text/plain; charset=utf-8")
    body = calendar_build(
        calendar_feed_activities(user=user),
        base_url=site_base_url(request),
        name=f"PRM: {user.get_full_name() or user.get_username()}",
    )
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_http_methods(["GET", "HEAD"])
def activity_ics(request, pk, partner_pk=None, customer_pk=None):
    """One scheduled call or meeting as an ``.ics`` file to open in a calendar app; 404 unless the user may see the
    partner (customer) and the activity is a scheduled call/meeting of that one."""
    subject = subject_get_for_user(request.user, partner_pk=partner_pk, customer_pk=customer_pk)
    activity = calendar_activity_of_subject(subject=subject, pk=pk)
    if activity is None:
        raise Http404
    body = calendar_build([activity], base_url=site_base_url(request), method="PUBLISH")
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="activity-{activity.pk}.ics"'
    return response
