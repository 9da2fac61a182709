"""The portal's messages (/portal/messages/…): announcements (the bell) and the feed (portal.message_views)."""

from django.urls import path

from portal import message_views as views

urlpatterns = [
    path("", views.message_list, name="messages"),
    path("<int:pk>/", views.message_detail, name="message_detail"),
    path("read-all/", views.message_read_all, name="messages_read_all"),
    path("feed/", views.feed, name="feed"),
]
