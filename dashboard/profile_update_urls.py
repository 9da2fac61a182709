"""The staff's review of partner profile updates, under /profile-updates/ (URL names ``profile_updates:…``)."""

from django.urls import path

from dashboard import profile_update_views

app_name = "profile_updates"

urlpatterns = [
    path("", profile_update_views.update_list, name="list"),
    path("<int:pk>/", profile_update_views.update_detail, name="detail"),
    path("<int:pk>/approve/", profile_update_views.update_approve, name="approve"),
    path("<int:pk>/reject/", profile_update_views.update_reject, name="reject"),
]
