"""Top-level pages that compose several apps: the rep's day, the user's settings and their calendar feed."""

from django.urls import path

from activities.calendar_views import calendar_feed
from dashboard.team import team_dashboard, team_export
from dashboard.views import today
from notifications.settings_views import user_settings

urlpatterns = [
    path("today/", today, name="today"),
    path("team/", team_dashboard, name="team"),
    path("team/export/<slug:table>.csv", team_export, name="team_export"),
    path("settings/", user_settings, name="settings"),
    path("calendar/<str:token>.ics", calendar_feed, name="calendar_feed"),
]
