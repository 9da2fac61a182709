"""/settings/webhooks/ (included by prm/urls.py): URL names ``webhooks:list``, ``webhooks:detail``,
``webhooks:rotate``, ``webhooks:delete``, ``webhooks:test``, ``webhooks:resend``."""

from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("<int:pk>/", views.endpoint_detail, name="detail"),
    path("<int:pk>/rotate/", views.endpoint_rotate, name="rotate"),
    path("<int:pk>/delete/", views.endpoint_remove, name="delete"),
    path("<int:pk>/test/", views.endpoint_test, name="test"),
    path("<int:pk>/deliveries/<int:delivery_pk>/send-again/", views.delivery_send_again, name="resend"),
]
