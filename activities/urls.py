"""Included under /partners/<partner_pk>/activities/ by prm/urls.py."""

from django.urls import path

from activities import views

app_name = "activities"

urlpatterns = [
    path("schedule/", views.activity_schedule, name="schedule"),
    path("remind/", views.activity_remind, name="remind"),
    path("log/", views.activity_log, name="log"),
    path("<int:pk>/complete/", views.activity_complete, name="complete"),
    path("<int:pk>/cancel/", views.activity_cancel, name="cancel"),
]
