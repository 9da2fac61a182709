"""The ticket pages, under /tickets/ (URL names ``tickets:…``), included by prm/urls.py."""

from django.urls import path

from service import views

app_name = "tickets"

urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("new/", views.ticket_create, name="create"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/comment/", views.ticket_comment, name="comment"),
    path("<int:pk>/status/", views.ticket_status, name="status"),
    path("<int:pk>/priority/", views.ticket_priority, name="priority"),
    path("<int:pk>/assign/", views.ticket_assign, name="assign"),
    path("<int:pk>/files/<int:attachment_pk>/", views.attachment_download, name="attachment"),
]
