"""Included under /dev/ (URL names ``devtools:…``): the development mailbox, answering only with DEBUG on."""

from django.urls import path

from devtools import views

app_name = "devtools"

urlpatterns = [
    path("mailbox/", views.mailbox, name="mailbox"),
    path("mailbox/<str:file_name>/<int:index>/", views.mailbox_message, name="mailbox_message"),
]
