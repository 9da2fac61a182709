"""Included under /notifications/ (URL names ``notifications:…``); the settings page is /settings/ (``settings``)."""

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("unread.json", views.notification_unread_count, name="unread"),
    path("<int:pk>/read/", views.notification_mark_read, name="mark_read"),
    path("read-all/", views.notification_mark_all_read, name="mark_all_read"),
]
