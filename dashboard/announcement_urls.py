"""Messages to partners, under /announcements/ (URL names ``announcements:…``); included by prm/urls.py."""

from django.urls import path

from dashboard import announcement_views as views

app_name = "announcements"

urlpatterns = [
    path("", views.announcement_list, name="list"),
    path("new/", views.announcement_create, name="create"),
]
