"""Included under /partners/<partner_pk>/activities/ by prm/urls.py (namespace ``activities``); the same pages of a
customer are activities/customer_urls.py."""

from django.urls import path

from activities import calendar_views, views

app_name = "activities"


def activity_patterns() -> list:
    """The activity pages of one partner or customer (the prefix's ``partner_pk`` / ``customer_pk`` says which)."""
    return [
        path("schedule/", views.activity_schedule, name="schedule"),
        path("remind/", views.activity_remind, name="remind"),
        path("log/", views.activity_log, name="log"),
        path("<int:pk>/edit/", views.activity_edit, name="edit"),
        path("<int:pk>/complete/", views.activity_complete, name="complete"),
        path("<int:pk>/cancel/", views.activity_cancel, name="cancel"),
        path("<int:pk>/calendar.ics", calendar_views.activity_ics, name="ics"),
    ]


urlpatterns = activity_patterns()
