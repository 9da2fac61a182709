"""The user's settings page (/settings/): time zone, lead time, email and digest switches, and the private calendar
feed link (create / replace / revoke). Form → notifications.preferences → redirect.

The feed URL holds a secret token that is stored only hashed: it is shown once, in the answer to the POST that made
it (never cached), and can only be replaced or revoked afterwards.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from notifications.preferences import (
    SESSION_TIME_ZONE,
    calendar_token_create,
    calendar_token_revoke,
    preference_for,
    preference_save,
    time_zone_names,
)
from notifications.settings_forms import PreferenceForm

SAVE, CALENDAR_CREATE, CALENDAR_REVOKE = "save", "calendar_create", "calendar_revoke"


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def user_settings(request):
    """Queries for GET: the session, the user, their preferences (3)."""
    preference = preference_for(user=request.user)
    action = request.POST.get("action", SAVE) if request.method == "POST" else None
    form = None
    feed_url = None
    if action == CALENDAR_CREATE:
        token = calendar_token_create(user=request.user)
        feed_url = _absolute(request, reverse("calendar_feed", args=[token]))
        preference = preference_for(user=request.user)
    elif action == CALENDAR_REVOKE:
        calendar_token_revoke(user=request.user)
        messages.success(request, _("Calendar link revoked: calendars subscribed to it stop updating."))
        return redirect("settings")
    elif action == SAVE:
        form = PreferenceForm(request.POST)
        if form.is_valid():
            try:
                saved = preference_save(user=request.user, **form.cleaned_data)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                request.session[SESSION_TIME_ZONE] = saved.time_zone
                messages.success(request, _("Settings saved."))
                return redirect("settings")
    if form is None:
        form = PreferenceForm(
            initial={
                "time_zone": preference.time_zone,
                "lead_minutes": preference.lead_minutes,
                "email_notifications": preference.email_notifications,
                "digest_enabled": preference.digest_enabled,
            }
        )
    selected_zone = (form.data.get("time_zone") if form.is_bound else None) or preference.time_zone
    response = render(
        request,
        "notifications/settings.html",
        {
            "form": form,
            "preference": preference,
            "time_zones": time_zone_names(),
            "selected_zone": selected_zone,
            "feed_url": feed_url,
            "webcal_url": "webcal://" + feed_url.split("://", 1)[1] if feed_url else None,
            "password_change_url": _password_change_url(),
            "org_time_zone": settings.TIME_ZONE,
        },
    )
    if feed_url:
        add_never_cache_headers(response)  # the secret must not stay in any cache
    return response


def _absolute(request, path: str) -> str:
    site = getattr(settings, "SITE_URL", "")
    return site.rstrip("/") + path if site else request.build_absolute_uri(path)


def _password_change_url() -> str | None:
    try:
        return reverse("password_change")
    except NoReverseMatch:
        return None
