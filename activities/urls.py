"""Included under /partners/<partner_pk>/activities/ by prm/urls.py."""

from django.urls import path

from activities import calendar_views, views

app_name = "activities"

urlpatterns = [
    path("schedule/", views.activity_schedule, name="schedule"),
    path("remind/", views.activity_remind, name="remind"),
    path("log/", views.activity_log, name="log"),
    path("<int:pk>/edit/", views.activity_edit, name="edit"),
    path("<int:pk>/complete/", views.activity_complete, name="complete"),
    path("<int:pk>/cancel/", views.activity_cancel, name="cancel"),
    path("<int:pk>/calendar.ics", calendar_views.activity_ics, name="ics"),
]
